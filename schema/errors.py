"""The one place where exceptions become GraphQL errors with `extensions.code`."""

import logging
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from graphql import GraphQLError

from users.errors import Conflict, NotAuthenticated, TokenError

logger = logging.getLogger("schema.errors")


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    TOKEN_INVALID = "TOKEN_INVALID"
    TOKEN_REVOKED = "TOKEN_REVOKED"
    RATE_LIMITED = "RATE_LIMITED"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    CONFLICT = "CONFLICT"
    INTERNAL = "INTERNAL"


class ClinicGraphQLError(Exception):
    """An error raised by the GraphQL layer itself with a known code (limits, throttling)."""

    def __init__(self, code: ErrorCode, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.code = code
        self.extensions = extensions


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
    if isinstance(original, ClinicGraphQLError):
        return original.code, str(original), original.extensions
    if isinstance(original, TokenError):
        return ErrorCode(original.code), str(original), {}
    if isinstance(original, NotAuthenticated):
        return ErrorCode.UNAUTHENTICATED, str(original) or "Authentication required.", {}
    if isinstance(original, PermissionDenied):
        return ErrorCode.FORBIDDEN, str(original) or "You are not allowed to do this.", {}
    if isinstance(original, ObjectDoesNotExist):
        return ErrorCode.NOT_FOUND, "Not found.", {}
    if isinstance(original, ValidationError):
        return ErrorCode.BAD_USER_INPUT, "Invalid input.", {"fields": validation_fields(original)}
    if isinstance(original, Conflict):
        return ErrorCode.CONFLICT, str(original), {}
    return ErrorCode.INTERNAL, "Internal server error.", {}


def format_error(error: GraphQLError, *, request_id: str = "") -> dict[str, Any]:
    """The client's view of an error: a code always, details only where they are safe."""
    original = error.original_error
    if original is None:
        # Syntax and validation errors come from graphql-core and name only the document.
        code, message, extra = ErrorCode.BAD_USER_INPUT, error.message, {"fields": {}}
    else:
        code, message, extra = classify(original)
    if code == ErrorCode.INTERNAL:
        logger.error(
            "Unexpected error in request %s at %s",
            request_id or "-",
            error.path,
            exc_info=(type(original), original, original.__traceback__) if original else None,
        )
        extra = {"requestId": request_id}
    formatted: dict[str, Any] = {"message": message}
    if error.locations is not None:
        formatted["locations"] = [location._asdict() for location in error.locations]
    if error.path is not None:
        formatted["path"] = error.path
    formatted["extensions"] = {"code": code.value, **extra}
    return formatted


def debug_enabled() -> bool:
    return bool(settings.DEBUG)
