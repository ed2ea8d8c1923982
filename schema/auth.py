"""Token mutations: Strawberry fields over django-graphql-jwt's machinery and users.sessions.

Browser cookie mode (settings.JWT_REFRESH_COOKIE): the refresh token travels in an HttpOnly,
SameSite=Strict cookie scoped to /graphql (and /graphql/) and never in the response body; the access token
never goes in a cookie. A request that relies on that cookie alone (refreshToken/revokeToken
without an argument) must carry `X-CSRF-Token`, an HMAC of the refresh token that tokenAuth and
refreshToken hand out in `csrfToken` and in a readable cookie: a cross-site page can neither read
it nor, without CORS approval, send the header (signed double-submit, OWASP).
"""

from datetime import datetime
from ipaddress import ip_address
from urllib.parse import urlsplit

import strawberry
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils.crypto import constant_time_compare, salted_hmac
from graphql import GraphQLError, ValidationRule
from strawberry.scalars import JSON
from strawberry.types import Info

from mfa.services import access_token_claims_for, login_start
from schema.errors import ErrorCode
from schema.permissions import AllowAny, guard
from schema.users.types import UserType
from users.errors import TokenError
from users.models import RefreshToken, User
from users.sessions import SESSION_ID_CLAIM, session_expires_at, session_refresh, session_revoke
from users.token_library import access_token_claims, delete_cookie, get_token, jwt_settings, set_cookie

CSRF_COOKIE_NAME = "clinic-csrf-token"
CSRF_HEADER = "HTTP_X_CSRF_TOKEN"  # X-CSRF-Token
CSRF_SALT = "clinic.refresh-cookie-csrf"
# Why a cookie-only request arrived without the cookie, when its Origin shows it: the page is on
# another site, and SameSite=Strict keeps the cookie home. Otherwise such a request fails with a
# bare TOKEN_INVALID, and the set-up looks right from the page.
CROSS_SITE_MESSAGE = (
    "No refresh cookie was sent: the page ({origin}) and the API are not on the same site, so the "
    "browser keeps the SameSite=Strict cookie back (and the page cannot read the CSRF cookie). Serve "
    "the page and the API from one site, or send the API's requests through the dev server's proxy "
    "(see README, cookie mode)."
)


@strawberry.type(
    name="TokenAuthPayload",
    description="A fresh access token and refresh token; or, from `tokenAuth` for a user with TOTP on, "
    "`mfaRequired` and an `mfaToken` for `verifyMfa` instead (the token fields are then null).",
)
class TokenAuthPayload:
    token: str | None = strawberry.field(
        description="Access token for `Authorization: Bearer <token>`; 5 minutes. Null while `mfaRequired`."
    )
    refresh_token: str | None = strawberry.field(
        description="Single-use refresh token for `refreshToken`. Null in browser cookie mode, where it is "
        "only in the HttpOnly cookie."
    )
    refresh_expires_at: datetime | None = strawberry.field(
        description="When the session ends unless refreshed: 15 minutes idle or 12 hours after login."
    )
    refresh_expires_in: int | None = strawberry.field(
        description="`refreshExpiresAt` as Unix time (seconds), despite its name not a duration.",
        deprecation_reason="Its name reads as a duration but it is a Unix time: use `refreshExpiresAt`.",
    )
    payload: JSON | None = strawberry.field(
        description="The access token's claims. With `mfa` = `enrol` the session may only enrol in TOTP (a role "
        "that requires MFA, not enrolled yet; every other field answers MFA_REQUIRED)."
    )
    user: UserType | None = strawberry.field(description="Who signed in. Null while `mfaRequired`.")
    csrf_token: str | None = strawberry.field(
        description="Browser cookie mode only: send it as `X-CSRF-Token` with a cookie-only `refreshToken` or "
        "`revokeToken`. Null otherwise."
    )
    mfa_required: bool = strawberry.field(
        default=False, description="True when the password was right and a TOTP code is needed: call `verifyMfa`."
    )
    mfa_token: str | None = strawberry.field(
        default=None, description="For `verifyMfa`, while `mfaRequired`: single use, 5 minutes. Null otherwise."
    )


@strawberry.type(name="RevokeTokenPayload", description="Result of a logout.")
class RevokeTokenPayload:
    revoked: bool = strawberry.field(description="True once the session of the refresh token can no longer be used.")


def cookie_mode() -> bool:
    return bool(settings.JWT_REFRESH_COOKIE)


def csrf_token_for(refresh_token: str) -> str:
    return salted_hmac(CSRF_SALT, refresh_token).hexdigest()


def refresh_token_from(info: Info, argument: str | None) -> str | None:
    """The argument if given; in cookie mode, otherwise the cookie, but only with a matching CSRF header."""
    if argument or not cookie_mode():
        return argument
    request = info.context.request
    cookie = request.COOKIES.get(jwt_settings.JWT_REFRESH_TOKEN_COOKIE_NAME)
    if not cookie:
        explain_missing_cookie(request)
        return None
    if not constant_time_compare(request.META.get(CSRF_HEADER, ""), csrf_token_for(cookie)):
        raise PermissionDenied("Missing or wrong X-CSRF-Token header.")
    return cookie


def explain_missing_cookie(request) -> None:
    """TOKEN_INVALID saying why no cookie came, when the Origin header shows it; else nothing."""
    origin = request.META.get("HTTP_ORIGIN", "")
    if origin and origin != "null" and site_of(origin) != site_of(f"{request.scheme}://{request.get_host()}"):
        raise TokenError(ErrorCode.TOKEN_INVALID, CROSS_SITE_MESSAGE.format(origin=origin[:100]))


def site_of(url: str) -> tuple[str, str]:
    """(scheme, registrable domain) as browsers compare sites for SameSite, close enough to explain a
    failure (not to decide one): the last two labels of a name, without the public suffix list,
    an IP address whole. http://127.0.0.1:8000 and http://localhost:5173 are two sites."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    try:
        ip_address(host)
    except ValueError:
        host = ".".join(host.split(".")[-2:])
    return parts.scheme, host


def session_payload(info: Info, user: User, refresh: RefreshToken) -> TokenAuthPayload:
    """Tokens for a session; in cookie mode the refresh token goes in the cookie instead of the body."""
    token = get_token(user, **{SESSION_ID_CLAIM: str(refresh.family_id)}, **access_token_claims_for(user=user))
    clear_refresh = refresh.get_token()
    expires_at: datetime = session_expires_at(refresh.family)
    csrf_token = None
    if cookie_mode():
        csrf_token = csrf_token_for(clear_refresh)
        response = info.context.response
        set_cookie(response, jwt_settings.JWT_REFRESH_TOKEN_COOKIE_NAME, clear_refresh, expires_at)
        # Readable by the single-page app (any path), so it can echo it in X-CSRF-Token.
        response.set_cookie(
            CSRF_COOKIE_NAME,
            csrf_token,
            expires=expires_at,
            secure=jwt_settings.JWT_COOKIE_SECURE,
            samesite=jwt_settings.JWT_COOKIE_SAMESITE,
            domain=jwt_settings.JWT_COOKIE_DOMAIN,
        )
    return TokenAuthPayload(
        token=token,
        refresh_token=None if cookie_mode() else clear_refresh,
        refresh_expires_at=expires_at,
        refresh_expires_in=int(expires_at.timestamp()),
        payload=access_token_claims(token),
        user=user,
        csrf_token=csrf_token,
    )


def mfa_required_payload(mfa_token: str) -> TokenAuthPayload:
    return TokenAuthPayload(
        token=None,
        refresh_token=None,
        refresh_expires_at=None,
        refresh_expires_in=None,
        payload=None,
        user=None,
        csrf_token=None,
        mfa_required=True,
        mfa_token=mfa_token,
    )


def clear_session_cookies(info: Info) -> None:
    if cookie_mode():
        response = info.context.response
        delete_cookie(response, jwt_settings.JWT_REFRESH_TOKEN_COOKIE_NAME)
        response.delete_cookie(CSRF_COOKIE_NAME, domain=jwt_settings.JWT_COOKIE_DOMAIN)


class OneTokenAuthPerDocument(ValidationRule):
    """Refuse a document with more than one `tokenAuth` field (aliases included) before any password
    is checked: one request could otherwise try a hundred passwords. Answered as RATE_LIMITED,
    the code of login throttling, since only password-guessing tools send such a document."""

    def __init__(self, context) -> None:
        super().__init__(context)
        self.token_auth_fields = 0

    def enter_field(self, node, *_args) -> None:
        mutation_type = self.context.schema.mutation_type
        parent_type = self.context.get_parent_type()
        if node.name.value == "tokenAuth" and mutation_type is not None and parent_type is mutation_type:
            self.token_auth_fields += 1
            if self.token_auth_fields == 2:
                self.report_error(
                    GraphQLError(
                        "A document may hold at most one tokenAuth field.",
                        node,
                        extensions={"code": ErrorCode.RATE_LIMITED.value},
                    )
                )


@strawberry.type
class AuthMutation:
    @strawberry.mutation(
        description="Sign in with a username and password. With TOTP on, the answer is `mfaRequired` and an "
        "`mfaToken` instead of tokens: finish with `verifyMfa`.",
        extensions=guard(AllowAny()),
    )
    def token_auth(self, info: Info, username: str, password: str) -> TokenAuthPayload:
        started = login_start(request=info.context.request, username=username, password=password)
        if started.refresh is None:
            return mfa_required_payload(started.mfa_token)
        return session_payload(info, started.user, started.refresh)

    @strawberry.mutation(
        description="Trade a refresh token for new tokens. The presented one stops working; presenting it again "
        "ends the whole session (unless the server's grace window is on: then, within it, the same new tokens "
        "come back). In cookie mode it may be omitted (then `X-CSRF-Token` is required).",
        extensions=guard(AllowAny()),
    )
    def refresh_token(self, info: Info, refresh_token: str | None = None) -> TokenAuthPayload:
        user, refresh = session_refresh(token=refresh_token_from(info, refresh_token), request=info.context.request)
        return session_payload(info, user, refresh)

    @strawberry.mutation(
        description="Log out: end the session of a refresh token (in cookie mode, of the cookie's).",
        extensions=guard(AllowAny()),
    )
    def revoke_token(self, info: Info, refresh_token: str | None = None) -> RevokeTokenPayload:
        revoked = session_revoke(token=refresh_token_from(info, refresh_token), request=info.context.request)
        clear_session_cookies(info)
        return RevokeTokenPayload(revoked=revoked)
