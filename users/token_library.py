"""The one module that imports django-graphql-jwt (STYLE.md rule 10).

The library is pinned with graphene it drags in (requirements.txt); keeping every use behind this
adapter means replacing or upgrading it touches one file. Its exceptions never leave here: a
token the library refuses becomes our TokenError with a code of the one ErrorCode enum.
"""

from graphql_jwt.exceptions import JSONWebTokenError, JSONWebTokenExpired
from graphql_jwt.refresh_token.models import AbstractRefreshToken
from graphql_jwt.refresh_token.models import RefreshToken as LegacyRefreshToken
from graphql_jwt.refresh_token.utils import get_refresh_token_model
from graphql_jwt.settings import jwt_settings
from graphql_jwt.shortcuts import get_token
from graphql_jwt.utils import delete_cookie, set_cookie
from graphql_jwt.utils import get_payload as _library_get_payload
from graphql_jwt.utils import jwt_payload as library_jwt_payload

from users.errors import ErrorCode, TokenError

__all__ = [
    "AbstractRefreshToken",
    "LegacyRefreshToken",
    "access_token_claims",
    "delete_cookie",
    "get_refresh_token_model",
    "get_token",
    "jwt_settings",
    "library_jwt_payload",
    "set_cookie",
]


def access_token_claims(token: str) -> dict:
    """The verified claims of an access token (signature, exp, aud, iss), or TokenError."""
    try:
        return _library_get_payload(token)
    except JSONWebTokenExpired as error:
        raise TokenError(ErrorCode.TOKEN_EXPIRED, "The access token has expired.") from error
    except JSONWebTokenError as error:
        raise TokenError(ErrorCode.TOKEN_INVALID, "The access token is invalid.") from error
