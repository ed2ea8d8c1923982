"""Token mutations: Strawberry fields over django-graphql-jwt's machinery."""

import strawberry
from graphql_jwt.settings import jwt_settings
from graphql_jwt.shortcuts import get_token
from graphql_jwt.utils import get_payload
from strawberry.scalars import JSON
from strawberry.types import Info

from schema.permissions import AllowAny, guard
from schema.users.types import UserType
from users.services import session_refresh, session_revoke, session_start


@strawberry.type(name="TokenAuthPayload", description="A fresh access token and refresh token.")
class TokenAuthPayload:
    token: str = strawberry.field(description="Access token for `Authorization: Bearer <token>`; 5 minutes.")
    refresh_token: str = strawberry.field(description="Single-use refresh token for `refreshToken`.")
    refresh_expires_in: int = strawberry.field(description="When the refresh token expires (Unix time).")
    payload: JSON = strawberry.field(description="The access token's claims.")
    user: UserType = strawberry.field(description="Who signed in.")


@strawberry.type(name="RevokeTokenPayload", description="Result of a logout.")
class RevokeTokenPayload:
    revoked: bool = strawberry.field(description="True once the refresh token can no longer be used.")


def _payload_for(user, refresh) -> TokenAuthPayload:
    token = get_token(user)
    refresh_expires_in = int(refresh.created.timestamp() + jwt_settings.JWT_REFRESH_EXPIRATION_DELTA.total_seconds())
    return TokenAuthPayload(
        token=token,
        refresh_token=refresh.get_token(),
        refresh_expires_in=refresh_expires_in,
        payload=get_payload(token),
        user=user,
    )


@strawberry.type
class AuthMutation:
    @strawberry.mutation(description="Sign in with a username and password.", extensions=guard(AllowAny()))
    def token_auth(self, info: Info, username: str, password: str) -> TokenAuthPayload:
        user, refresh = session_start(request=info.context.request, username=username, password=password)
        return _payload_for(user, refresh)

    @strawberry.mutation(
        description="Trade a refresh token for new tokens. The presented one stops working.",
        extensions=guard(AllowAny()),
    )
    def refresh_token(self, info: Info, refresh_token: str | None = None) -> TokenAuthPayload:
        user, refresh = session_refresh(token=refresh_token, request=info.context.request)
        return _payload_for(user, refresh)

    @strawberry.mutation(description="Log out: revoke a refresh token.", extensions=guard(AllowAny()))
    def revoke_token(self, info: Info, refresh_token: str | None = None) -> RevokeTokenPayload:
        return RevokeTokenPayload(revoked=session_revoke(token=refresh_token, request=info.context.request))
