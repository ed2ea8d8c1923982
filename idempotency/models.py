"""Stored answers to mutations sent with an Idempotency-Key header (IETF draft, DESIGN.md section 5).

The HTTP/API layer's own table: no domain app depends on it and it imports none of them but
the user model. A row is inserted before the mutation runs, in the mutation's transaction, and
filled with the answer when it ends: both commit together or neither does.
"""

from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The client's key as sent (after sf-string unquoting): at most 255 printable ASCII characters.
    key = models.CharField(max_length=255)
    # SHA-256 of the request (query, variables, operation name, extensions): a retry must match it.
    fingerprint = models.CharField(max_length=64)
    # The stored answer. Empty until the mutation's transaction commits, which is also when other
    # transactions first see the row: a reader never finds one half written.
    status = models.PositiveSmallIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)  # purge_idempotency_keys deletes by it

    class Meta:
        constraints = [
            # Per user: two users' keys never collide, and one user's answer is never served to another.
            # Concurrent duplicates queue on this index until the first transaction ends.
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user"),
        ]

    def __str__(self) -> str:
        return f"idempotency key of user {self.user_id}"
