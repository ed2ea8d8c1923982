"""The one place where exceptions become GraphQL errors with `extensions.code`."""

import logging
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from graphql import ArgumentNode, GraphQLError, ObjectFieldNode, Visitor, parse, visit

from users.errors import Conflict, ErrorCode, MfaRequired, NotAuthenticated, RateLimited, TokenError

logger = logging.getLogger("schema.errors")


def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def validation_fields(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            camel_case(field) if field != "__all__" else "input": [str(message) for message in messages]
            for field, messages in error.message_dict.items()
        }
    return {"input": [str(message) for message in error.messages]}


def classify(original: BaseException | None) -> tuple[ErrorCode, str, dict[str, Any]]:
    """Code, client-safe message and extra extensions for an exception (None: a GraphQL error)."""
    if isinstance(original, TokenError):
        return original.code, str(original), {}
    if isinstance(original, NotAuthenticated):
        return ErrorCode.UNAUTHENTICATED, str(original) or "Authentication required.", {}
    if isinstance(original, PermissionDenied):
        return ErrorCode.FORBIDDEN, str(original) or "You are not allowed to do this.", {}
    if isinstance(original, ObjectDoesNotExist):
        return ErrorCode.NOT_FOUND, "Not found.", {}
    if isinstance(original, ValidationError):
        return ErrorCode.BAD_USER_INPUT, "Invalid input.", {"fields": validation_fields(original)}
    if isinstance(original, MfaRequired):
        return ErrorCode.MFA_REQUIRED, str(original), {}
    if isinstance(original, Conflict):
        return ErrorCode.CONFLICT, str(original), {}
    if isinstance(original, RateLimited):
        retry_after = {"retryAfter": original.retry_after} if original.retry_after is not None else {}
        return ErrorCode.RATE_LIMITED, str(original), retry_after
    if database_unreachable(original):
        return ErrorCode.SERVICE_UNAVAILABLE, "The service is unavailable; retry later.", {
            "retryAfter": SERVICE_UNAVAILABLE_RETRY_AFTER
        }
    return ErrorCode.INTERNAL, "Internal server error.", {}


# Seconds a client should wait before retrying when the database is unreachable (Retry-After):
# long enough for a failover or a restart of PostgreSQL, short enough not to lose the user.
SERVICE_UNAVAILABLE_RETRY_AFTER = 5


def database_unreachable(error: BaseException | None) -> bool:
    """Did `error` come from a database we cannot reach, rather than from a query?

    Django raises OperationalError for both a refused connection and, say, a statement timeout
    or a locked SQLite file; only the first is "unavailable". Django leaves `connection` None
    when connecting failed, and psycopg marks a connection the server dropped as closed. Neither
    check costs a query (a probe would itself hang on a dead server).
    """
    if not isinstance(error, OperationalError | InterfaceError):
        return False
    raw = connections[DEFAULT_DB_ALIAS].connection
    return raw is None or bool(getattr(raw, "closed", False))


VARIABLE_ERROR = re.compile(
    r"^Variable '\$(?P<variable>\w+)' got invalid value (?P<value>.*?)(?: at '(?P<path>[^']*)')?$", re.DOTALL
)
NAMED_FIELD = re.compile(
    r"^Field '(?:\w+\.)?(?P<field>\w+)' (?:of required type|is not defined by type|must not be null)"
)


def named_field(message: str) -> str | None:
    match = NAMED_FIELD.match(message)
    return match["field"] if match else None


def literal_field(error: GraphQLError) -> str | None:
    """The argument or input field whose literal value a validation error points at, if any."""
    if not error.nodes or error.nodes[0].loc is None or error.source is None:
        return None
    start = error.nodes[0].loc.start
    found: list[str] = []

    class Finder(Visitor):
        def enter(self, node, *args):
            if isinstance(node, ArgumentNode | ObjectFieldNode) and node.value.loc and node.value.loc.start == start:
                found.append(node.name.value)

    try:
        visit(parse(error.source), Finder())
    except GraphQLError:
        return None
    return found[-1] if found else None


def variable_error(error: GraphQLError) -> tuple[str, dict[str, list[str]]]:
    """A variable that failed coercion, named by its input field, without echoing the value.

    graphql-core keeps the inner error as `original_error` and quotes the rejected value,
    which may be a password, a token or PHI.
    """
    inner = error.original_error
    suffix = f"; {inner.message}"
    prefix = error.message[: -len(suffix)] if error.message.endswith(suffix) else error.message
    match = VARIABLE_ERROR.match(prefix)
    if match is None:
        return error.message, {}
    detail = inner.message.replace(match["value"], "(redacted)") if match["value"] else inner.message
    path = [part for part in re.split(r"[.\[\]]+", match["path"] or "") if part and not part.isdigit()]
    field = named_field(inner.message) or (path[-1] if path else match["variable"])
    where = f" at '{match['path']}'" if match["path"] else ""
    return f"Variable '${match['variable']}' got an invalid value{where}.", {field: [detail]}


def format_error(error: GraphQLError, *, request_id: str = "") -> dict[str, Any]:
    """The client's view of an error: a code always, details only where they are safe."""
    original = error.original_error
    if original is None:
        # Syntax and validation errors come from graphql-core and name only the document.
        field = named_field(error.message) or literal_field(error)
        fields = {field: [error.message]} if field else {}
        code, message, extra = ErrorCode.BAD_USER_INPUT, error.message, {"fields": fields}
        if (error.extensions or {}).get("code") in ErrorCode.__members__:
            # A validation rule of ours said which code (e.g. RATE_LIMITED for several tokenAuth fields).
            code, extra = ErrorCode(error.extensions["code"]), {}
    elif isinstance(original, GraphQLError):
        message, fields = variable_error(error)
        code, extra = ErrorCode.BAD_USER_INPUT, {"fields": fields}
    else:
        code, message, extra = classify(original)
    if code in (ErrorCode.INTERNAL, ErrorCode.SERVICE_UNAVAILABLE):
        logger.error(
            "Unexpected error in request %s at %s",
            request_id or "-",
            error.path,
            exc_info=(type(original), original, original.__traceback__) if original else None,
        )
        extra = {**extra, "requestId": request_id}
    formatted: dict[str, Any] = {"message": message}
    if error.locations is not None:
        formatted["locations"] = [location._asdict() for location in error.locations]
    if error.path is not None:
        formatted["path"] = error.path
    formatted["extensions"] = {"code": code.value, **extra}
    if not settings.DEBUG:
        hide_suggestions(formatted)
    return formatted


# graphql-core 3.2 appends "Did you mean 'x', 'y'?" to validation and coercion messages, which
# lets a caller without introspection rebuild the schema (graphql-cop's "field suggestions").
SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def merge_repeated(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One error per distinct message, with the locations of all its repeats.

    Ten unknown `@aa` directives are one mistake, not ten errors (graphql-cop's "directive
    overloading" probe counts them); a response's size should not grow with repeated junk.
    """
    merged: dict[tuple, dict[str, Any]] = {}
    for error in errors:
        key = (error["message"], error["extensions"]["code"], tuple(error.get("path") or ()))
        if key not in merged:
            merged[key] = error
        elif "locations" in error:
            merged[key].setdefault("locations", []).extend(error["locations"])
    return list(merged.values())


def hide_suggestions(formatted: dict[str, Any]) -> None:
    formatted["message"] = SUGGESTION.sub("", formatted["message"])
    fields = formatted["extensions"].get("fields") or {}
    for field, messages in fields.items():
        fields[field] = [SUGGESTION.sub("", message) for message in messages]

