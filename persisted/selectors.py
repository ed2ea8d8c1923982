"""Reads of persisted documents, with a per-process LRU in front of the table."""

import threading
from collections import OrderedDict

from persisted.models import PersistedDocument

# Entries never go stale (a hash names one text forever), so only the size needs a bound.
# Misses are not kept: another instance may register the document a moment later.
CACHE_SIZE = 512
_texts: OrderedDict[str, str] = OrderedDict()
_lock = threading.Lock()


def document_text(*, sha256: str) -> str | None:
    """The registered text with this SHA-256, or None when no instance has registered it."""
    with _lock:
        text = _texts.get(sha256)
        if text is not None:
            _texts.move_to_end(sha256)
            return text
    text = PersistedDocument.objects.filter(sha256=sha256).values_list("text", flat=True).first()
    if text is not None:
        remember(sha256=sha256, text=text)
    return text


def remember(*, sha256: str, text: str) -> None:
    with _lock:
        _texts[sha256] = text
        _texts.move_to_end(sha256)
        while len(_texts) > CACHE_SIZE:
            _texts.popitem(last=False)


def forget_all() -> None:
    """Empties this process's cache (tests that delete rows under it)."""
    with _lock:
        _texts.clear()
