"""Where the current request came from, for audit rows written deep inside services."""

import contextvars
import dataclasses
import re
import uuid


@dataclasses.dataclass(frozen=True)
class RequestOrigin:
    request_id: str = ""
    ip: str | None = None
    user_agent: str = ""


_origin: contextvars.ContextVar[RequestOrigin] = contextvars.ContextVar(
    "request_origin", default=RequestOrigin()  # noqa: B039 - frozen: immutable
)


def current_origin() -> RequestOrigin:
    return _origin.get()


def set_origin(origin: RequestOrigin) -> contextvars.Token:
    return _origin.set(origin)


def reset_origin(token: contextvars.Token) -> None:
    _origin.reset(token)


def new_request_id() -> str:
    return uuid.uuid4().hex


# What a proxy or client may hand us as X-Request-ID (DESIGN.md section 6): UUIDs and the usual
# trace ids fit. Anything longer than AuditEvent.request_id holds, or with other characters
# (spaces, quotes, newlines, colons, non-ASCII: log and header injection, ids that sort or split
# oddly in log tools), is replaced by a fresh id. ASCII only: \w and [a-z] with re.IGNORECASE
# would let Unicode letters in, so the class is spelled out.
INCOMING_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id_from_header(value: str | None) -> str:
    """The caller's X-Request-ID when it is well formed, otherwise a fresh id."""
    if value and INCOMING_REQUEST_ID.fullmatch(value):
        return value
    return new_request_id()
