"""Where the current request came from, for audit rows written deep inside services."""

import contextvars
import dataclasses
import uuid


@dataclasses.dataclass(frozen=True)
class RequestOrigin:
    request_id: str = ""
    ip: str | None = None
    user_agent: str = ""


_origin: contextvars.ContextVar[RequestOrigin] = contextvars.ContextVar(
    "request_origin", default=RequestOrigin()
)


def current_origin() -> RequestOrigin:
    return _origin.get()


def set_origin(origin: RequestOrigin) -> contextvars.Token:
    return _origin.set(origin)


def reset_origin(token: contextvars.Token) -> None:
    _origin.reset(token)


def new_request_id() -> str:
    return uuid.uuid4().hex
