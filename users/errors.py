"""Domain errors of the users app, raised by services and mapped to GraphQL codes in schema/."""

from enum import StrEnum


class ErrorCode(StrEnum):
    """Every `extensions.code` the API answers with: the one enum of error codes (STYLE.md rule 10).

    It lives here, in the lowest domain app, because domain code raises some of these codes itself
    (TokenError) and may not import schema/; schema/errors.py maps exceptions onto it.
    """

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
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"  # the database cannot be reached: retry (Retry-After)
    # Apollo's automatic persisted queries (schema/persisted.py): send the text with the hash.
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"  # a protocol version other than 1
    # A second factor is needed: a TOTP code with this request, or (a role in MFA_REQUIRED_ROLES
    # without MFA) enrolment first. users/step_up.py, mfa/.
    MFA_REQUIRED = "MFA_REQUIRED"


class NotAuthenticated(Exception):
    """The caller has no valid credentials."""


class Conflict(Exception):
    """The request conflicts with the current state (duplicate, already done)."""


class TokenError(Exception):
    """A token could not be used; `code` says why (TOKEN_EXPIRED, TOKEN_INVALID or TOKEN_REVOKED)."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


class RateLimited(Exception):
    """Too many attempts (login lockout); try again later, after `retry_after` seconds when known."""

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MfaRequired(Exception):
    """A second factor is missing: send a TOTP code, or enrol in MFA before anything else."""
