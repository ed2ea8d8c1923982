"""Writes of persisted documents."""

import hashlib

from django.conf import settings

from persisted.models import PersistedDocument
from persisted.selectors import remember


def document_register(*, text: str) -> str:
    """Stores `text` under its SHA-256 (returned); registering a known document again is a no-op.

    The caller decides whether the text deserves a row (schema/persisted.py checks it first).
    ignore_conflicts: two instances registering the same document at once both succeed, and
    the row is the same whoever wins.

    The table keeps the newest PERSISTED_DOCUMENTS_MAX rows, like Apollo Server's bounded APQ
    cache: a valid document can be varied without end (comments, whitespace, aliases, names, a
    caller who has not signed in can send `{ __typename } # <30 KiB>`), so without a bound
    anyone could grow the database a request at a time. An evicted document costs its client one
    PERSISTED_QUERY_NOT_FOUND, after which the link sends the text and it is registered again.
    """
    sha256 = hashlib.sha256(text.encode()).hexdigest()
    PersistedDocument.objects.bulk_create([PersistedDocument(sha256=sha256, text=text)], ignore_conflicts=True)
    remember(sha256=sha256, text=text)
    documents_evict_oldest(keep=settings.PERSISTED_DOCUMENTS_MAX)
    return sha256


def documents_evict_oldest(*, keep: int) -> int:
    """Deletes all but the `keep` most recently registered documents (one statement); returns how many.

    Other processes may still hold an evicted text in their cache: harmless, a hash names one
    text for ever.
    """
    older = PersistedDocument.objects.order_by("-created_at", "-sha256").values("sha256")[keep:]
    return PersistedDocument.objects.filter(sha256__in=older).delete()[0]
