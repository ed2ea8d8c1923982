"""Writes of persisted documents."""

import hashlib

from persisted.models import PersistedDocument
from persisted.selectors import remember


def document_register(*, text: str) -> str:
    """Stores `text` under its SHA-256 (returned); registering a known document again is a no-op.

    The caller decides whether the text deserves a row (schema/persisted.py checks it first).
    ignore_conflicts: two instances registering the same document at once both succeed, and
    the row is the same whoever wins.
    """
    sha256 = hashlib.sha256(text.encode()).hexdigest()
    PersistedDocument.objects.bulk_create([PersistedDocument(sha256=sha256, text=text)], ignore_conflicts=True)
    remember(sha256=sha256, text=text)
    return sha256
