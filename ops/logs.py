"""One JSON object per log line, for log shippers; the request id rides on every line."""

import json
import logging
import os
import traceback
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


def _describe(error: BaseException) -> str:
    """An exception's type, and for database errors the SQLSTATE and the names involved; never
    its message, which may quote data (a constraint's DETAIL holds the row, a trigger's text
    anything, a ValueError its input): PHI and secrets stay out of the logs."""
    parts = [f"{type(error).__module__}.{type(error).__qualname__}"]
    if sqlstate := getattr(error, "sqlstate", None):
        parts.append(f"sqlstate={sqlstate}")
    diag = getattr(error, "diag", None)
    for name in ("schema_name", "table_name", "column_name", "constraint_name"):
        if value := getattr(diag, name, None):
            parts.append(f"{name}={value}")
    return " ".join(parts)


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

    def formatException(self, exc_info) -> str:
        """Tracebacks (code locations and source lines) of the whole chain, messages withheld
        unless LOG_EXCEPTION_MESSAGES is on (for environments without real patient data)."""
        if settings_allow_messages():
            return super().formatException(exc_info)
        chain, seen, error = [], set(), exc_info[1]
        while error is not None and id(error) not in seen:
            seen.add(id(error))
            chain.append(error)
            error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
        blocks = []
        for error in reversed(chain):
            frames = "".join(traceback.format_tb(error.__traceback__)).rstrip("\n")
            blocks.append(f"Traceback (most recent call last):\n{frames}\n{_describe(error)} (message withheld)")
        return "\n\nThe above exception led to:\n\n".join(blocks)


def settings_allow_messages() -> bool:
    return os.environ.get("LOG_EXCEPTION_MESSAGES", "").strip().lower() in {"1", "true", "yes", "on"}
