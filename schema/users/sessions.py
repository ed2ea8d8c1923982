"""The caller's own sessions: list them, end one, end all, change password. Thin over users.sessions."""

from collections.abc import Iterable
from datetime import datetime

import strawberry
import strawberry_django
from strawberry import relay
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from schema.auth import TokenAuthPayload, session_payload
from schema.pagination import connection
from schema.permissions import IsAuthenticated, current_user, guard
from schema.relay import decode_global_id
from users.models import SessionFamily
from users.sessions import (
    SESSION_ID_CLAIM,
    password_change,
    session_expires_at,
    session_revoke_by_id,
    sessions_live_for,
    sessions_revoke_all,
)


@strawberry_django.type(SessionFamily, name="Session", description="A signed-in session: one login and its refreshes.")
class SessionType(relay.Node):
    created_at: datetime = strawberry_django.field(description="When the session started (login).")
    last_used_at: datetime = strawberry_django.field(description="When its refresh token was last used.")
    user_agent: str = strawberry_django.field(description="The User-Agent that logged in.")
    ip: str | None = strawberry_django.field(description="The IP address that logged in.")

    @strawberry_django.field(description="When the session ends unless refreshed.", only=["created_at", "last_used_at"])
    def expires_at(self, root: SessionFamily) -> datetime:
        return session_expires_at(root)

    @strawberry_django.field(description="True for the session of the access token making this request.")
    def current(self, root: SessionFamily, info: Info) -> bool:
        return str(root.pk) == str(getattr(info.context.request, "token_payload", {}).get(SESSION_ID_CLAIM, ""))


@strawberry.input(name="RevokeSessionInput", description="End one of your sessions.")
class RevokeSessionInput:
    id: strawberry.ID = strawberry.field(description="The session's global ID (from `mySessions`).")


@strawberry.input(name="ChangePasswordInput", description="Change your password.")
class ChangePasswordInput:
    old_password: str = strawberry.field(description="Your current password.")
    new_password: str = strawberry.field(description="The new password; Django's password validators apply.")


@strawberry.type(name="RevokeAllSessionsPayload", description="Result of logging out everywhere.")
class RevokeAllSessionsPayload:
    revoked_sessions: int = strawberry.field(description="How many live sessions were ended.")


@strawberry.type(name="RevokeSessionPayload", description="Result of ending one session.")
class RevokeSessionPayload:
    session: SessionType = strawberry.field(description="The session, now ended.")


@strawberry.type
class SessionsQuery:
    @connection(
        DjangoListConnection[SessionType],
        description="Your live sessions, most recently used first.",
        extensions=guard(IsAuthenticated()),
    )
    def my_sessions(self, info: Info) -> Iterable[SessionType]:
        return sessions_live_for(user=current_user(info))


@strawberry.type
class SessionsMutation:
    @strawberry.mutation(
        description="Change your password. Every session and access token of yours ends; the answer holds a new "
        "session for this client.",
        extensions=guard(IsAuthenticated()),
    )
    def change_password(self, info: Info, input: ChangePasswordInput) -> TokenAuthPayload:
        user = current_user(info)
        refresh = password_change(
            request=info.context.request, user=user, old_password=input.old_password, new_password=input.new_password
        )
        return session_payload(info, user, refresh)

    @strawberry.mutation(
        description="Log out everywhere: every session and access token of yours ends, this one included.",
        extensions=guard(IsAuthenticated()),
    )
    def revoke_all_sessions(self, info: Info) -> RevokeAllSessionsPayload:
        return RevokeAllSessionsPayload(revoked_sessions=sessions_revoke_all(user=current_user(info)))

    @strawberry.mutation(description="End one of your sessions.", extensions=guard(IsAuthenticated()))
    def revoke_session(self, info: Info, input: RevokeSessionInput) -> RevokeSessionPayload:
        session_id = decode_global_id(input.id, expected_type="Session", field="id")
        return RevokeSessionPayload(session=session_revoke_by_id(user=current_user(info), session_id=session_id))
