class IdempotencyKeyReused(Exception):
    """The same key was sent before with another request: the draft's 422."""
