"""Access-token authentication over django-graphql-jwt's decoding (users.token_library) and user lookup."""

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef

from users.errors import ErrorCode, TokenError
from users.models import SessionFamily, User
from users.sessions import SESSION_ID_CLAIM, SESSION_VERSION_CLAIM
from users.token_library import access_token_claims, jwt_settings

BEARER_PREFIXES = ("bearer", "jwt")
# DESIGN.md section 4: every access token carries all of these; a signed one without them is refused.
REQUIRED_CLAIMS = ("exp", "aud", "iss", SESSION_ID_CLAIM)


def token_from_header(header: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` (or `JWT <token>`) header; never a cookie."""
    parts = header.split()
    if len(parts) == 2 and parts[0].lower() in BEARER_PREFIXES:
        return parts[1]
    return None


# Facts about the user that other apps need on every request, loaded in the user's one query (users
# imports no other app: they register here, e.g. care/apps.py: whether a doctor holds an emergency
# grant in force, so the read audit asks which records only when one does). name -> expression
# over OuterRef("pk"), set as an attribute of request.user.
USER_REQUEST_FACTS: dict[str, Callable[[], Any]] = {}


def user_and_payload_from_access_token(token: str) -> tuple[User, dict]:
    """The active user an access token names and its claims, or TokenError with the reason.

    One query: the user row (with its profiles) carries the session version the token must match,
    and whether the token's session (its `sid`) is still live, so logout everywhere, a password
    change, deactivation, logout of that session and refresh-token reuse detection all end the
    token at once, for free.
    """
    payload = access_token_claims(token)
    # PyJWT checks exp, aud and iss only when the token carries them (and aud and iss only while
    # the settings name them): a token signed without one would never expire or be bound to this
    # API. Every token this API issues has all of them and a session, so one missing is forged.
    if any(claim not in payload for claim in REQUIRED_CLAIMS):
        raise TokenError(ErrorCode.TOKEN_INVALID, "The access token is invalid.")
    username = jwt_settings.JWT_PAYLOAD_GET_USERNAME_HANDLER(payload)
    if not isinstance(username, str) or not username:
        raise TokenError(ErrorCode.TOKEN_INVALID, "The access token is invalid.")
    try:
        session_id = uuid.UUID(str(payload[SESSION_ID_CLAIM]))
    except ValueError as error:
        raise TokenError(ErrorCode.TOKEN_INVALID, "The access token is invalid.") from error
    live = SessionFamily.objects.filter(pk=session_id, user=OuterRef("pk"), revoked_at__isnull=True)
    user = (
        User.objects.select_related("patient", "doctor")
        .filter(username=username)
        .annotate(session_live=Exists(live), **{name: make() for name, make in USER_REQUEST_FACTS.items()})
        .first()
    )
    if user is None or not user.is_active:
        raise TokenError(ErrorCode.TOKEN_INVALID, "The access token is invalid.")
    if payload.get(SESSION_VERSION_CLAIM) != user.session_version:
        raise TokenError(ErrorCode.TOKEN_REVOKED, "The session has ended. Sign in again.")
    if not user.session_live:
        raise TokenError(ErrorCode.TOKEN_REVOKED, "The session has ended. Sign in again.")
    return user, payload


def authenticate_request(request) -> None:
    """Set request.user from the Authorization header alone; keep a failure for the API to report.

    No header means anonymous: the API never falls back to a session or a cookie.
    """
    request.token_error = None
    request.user = AnonymousUser()
    request.token_payload = {}
    header = request.META.get(jwt_settings.JWT_AUTH_HEADER_NAME, "")
    if not header:
        return
    token = token_from_header(header)
    if token is None:
        request.token_error = TokenError(ErrorCode.TOKEN_INVALID, "Malformed Authorization header.")
        return
    try:
        request.user, request.token_payload = user_and_payload_from_access_token(token)
    except TokenError as error:
        request.token_error = error
