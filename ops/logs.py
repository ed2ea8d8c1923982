"""One JSON object per log line, for log shippers; the request id rides on every line."""

import json
import logging
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from audit.context import current_origin

# Attributes every LogRecord has; anything else on a record came from `extra=` and is emitted.
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# Django's `django.request` logger passes the request object itself: its repr has the query string.
_DROPPED_EXTRAS = frozenset({"request", "server_time"})


def _plain(value):
    """JSON for the usual scalar types; any other object is named, never str()-ed (no surprises)."""
    if isinstance(value, datetime | date | uuid.UUID | Decimal):
        return str(value)
    return f"<{type(value).__name__}>"


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "message", "request_id", ...extra}`; tracebacks as one string."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_origin().request_id
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and key not in _DROPPED_EXTRAS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=_plain, ensure_ascii=False)
