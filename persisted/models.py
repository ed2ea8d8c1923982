"""GraphQL documents registered by Apollo's automatic persisted queries (DESIGN.md section 6).

The HTTP/API layer's own table, like idempotency/: no domain app depends on it. Content
addressed: a row is the text whose SHA-256 is its key, so it never changes once written, and
every instance of the API (and every process) finds what any of them registered.
"""

from django.db import models


class PersistedDocument(models.Model):
    # Lower-case hex SHA-256 of `text` (UTF-8), as Apollo's PersistedQueryLink sends it.
    sha256 = models.CharField(max_length=64, primary_key=True)
    # Only documents within the limits, valid for the caller who registered them, and at most
    # schema.persisted.MAX_DOCUMENT_CHARS long are written, and only the newest
    # PERSISTED_DOCUMENTS_MAX are kept (persisted/services.py): the table cannot grow without bound.
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"persisted document {self.sha256[:12]}"
