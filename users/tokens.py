"""Access-token authentication over django-graphql-jwt's decoding and user lookup."""

from django.contrib.auth.models import AnonymousUser
from graphql_jwt.exceptions import JSONWebTokenError, JSONWebTokenExpired
from graphql_jwt.settings import jwt_settings
from graphql_jwt.utils import get_payload, get_user_by_payload

from users.errors import TokenError
from users.models import User

BEARER_PREFIXES = ("bearer", "jwt")


def get_user_by_natural_key(username: str) -> User | None:
    """JWT_GET_USER_BY_NATURAL_KEY_HANDLER: one query that also brings the role profiles."""
    return User.objects.select_related("patient", "doctor").filter(username=username).first()


def token_from_header(header: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` (or `JWT <token>`) header; never a cookie."""
    parts = header.split()
    if len(parts) == 2 and parts[0].lower() in BEARER_PREFIXES:
        return parts[1]
    return None


def user_from_access_token(token: str) -> User:
    """The active user an access token names, or TokenError with the reason."""
    try:
        payload = get_payload(token)
        user = get_user_by_payload(payload)
    except JSONWebTokenExpired as error:
        raise TokenError("TOKEN_EXPIRED", "The access token has expired.") from error
    except JSONWebTokenError as error:
        raise TokenError("TOKEN_INVALID", "The access token is invalid.") from error
    if user is None:
        raise TokenError("TOKEN_INVALID", "The access token is invalid.")
    return user


def authenticate_request(request) -> None:
    """Set request.user from the Authorization header alone; keep a failure for the API to report.

    No header means anonymous: the API never falls back to a session or a cookie.
    """
    request.token_error = None
    request.user = AnonymousUser()
    header = request.META.get(jwt_settings.JWT_AUTH_HEADER_NAME, "")
    if not header:
        return
    token = token_from_header(header)
    if token is None:
        request.token_error = TokenError("TOKEN_INVALID", "Malformed Authorization header.")
        return
    try:
        request.user = user_from_access_token(token)
    except TokenError as error:
        request.token_error = error
