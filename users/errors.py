"""Domain errors of the users app, raised by services and mapped to GraphQL codes in schema/."""


class NotAuthenticated(Exception):
    """The caller has no valid credentials."""


class Conflict(Exception):
    """The request conflicts with the current state (duplicate, already done)."""


class TokenError(Exception):
    """A token could not be used; `code` says why (TOKEN_EXPIRED, TOKEN_INVALID, TOKEN_REVOKED)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class RateLimited(Exception):
    """Too many attempts (login lockout); try again later, after `retry_after` seconds when known."""

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
