"""Single-use link tokens for invitations and password resets: issued, redeemed once, kept hashed.

The clear token (256 random bits) exists only in the mail's link; the database keeps its SHA-256,
so a copy of the table redeems nothing. Redeeming is one conditional UPDATE (`used_at IS NULL AND
expires_at > now`): of two clients presenting the same token at once, the database lets exactly
one change the row (PostgreSQL re-checks the condition after the first commits; SQLite runs one
writer at a time), and the other is told the token is invalid.
"""

import hashlib
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from users.errors import ErrorCode, TokenError
from users.models import AccountToken, AccountTokenPurpose, User

TOKEN_BYTES = 32
INVALID_MESSAGE = "This link is invalid or has already been used."
EXPIRED_MESSAGE = "This link has expired. Ask for a new one."

# The reference web app's pages (FRONTEND_URL) that take each kind of token.
LINK_PATHS = {
    AccountTokenPurpose.INVITATION: "accept-invitation",
    AccountTokenPurpose.PASSWORD_RESET: "reset-password",
}


def account_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def account_token_lifetime(purpose: AccountTokenPurpose) -> timedelta:
    if purpose == AccountTokenPurpose.INVITATION:
        return settings.INVITATION_LIFETIME
    return settings.PASSWORD_RESET_LIFETIME


def account_link(*, purpose: AccountTokenPurpose, token: str, base_url: str) -> str:
    """The page of the web app that takes `token`: FRONTEND_URL, else `base_url` (this server)."""
    base = settings.FRONTEND_URL or base_url
    if not base.endswith("/"):
        base += "/"
    return f"{base}{LINK_PATHS[purpose]}?{urlencode({'token': token})}"


def account_token_issue(
    *,
    purpose: AccountTokenPurpose,
    user: User | None,
    address_digest: str = "",
    ip: str | None = None,
    now: datetime | None = None,
) -> tuple[AccountToken, str]:
    """A new token row and its clear value. Earlier live tokens of the same kind for the same user
    (or, for resets, the same address) stop working: only the newest link works."""
    now = now or timezone.now()
    live = AccountToken.objects.filter(purpose=purpose, used_at__isnull=True, expires_at__gt=now)
    if purpose == AccountTokenPurpose.PASSWORD_RESET:
        # Keyed on the address, not the user: the same statement whether the address is known or not.
        live.filter(address_digest=address_digest).update(expires_at=now)
    elif user is not None:
        live.filter(user=user).update(expires_at=now)
    clear = secrets.token_urlsafe(TOKEN_BYTES)
    row = AccountToken.objects.create(
        purpose=purpose,
        user=user,
        digest=account_token_digest(clear),
        address_digest=address_digest,
        ip=ip,
        created_at=now,
        expires_at=now + account_token_lifetime(purpose),
    )
    return row, clear


def account_token_peek(*, purpose: AccountTokenPurpose, token: str) -> AccountToken:
    """The live token row with its user, without using it (to validate a password against the user first).

    Raises TokenError: TOKEN_EXPIRED past its lifetime, TOKEN_INVALID when unknown, used, bound to
    nobody, or its user was deactivated.
    """
    row = (
        AccountToken.objects.select_related("user")
        .filter(purpose=purpose, digest=account_token_digest(token or ""), user__isnull=False)
        .first()
    )
    if row is None or row.used_at is not None or not row.user.is_active:
        raise TokenError(ErrorCode.TOKEN_INVALID, INVALID_MESSAGE)
    if row.expires_at <= timezone.now():
        raise TokenError(ErrorCode.TOKEN_EXPIRED, EXPIRED_MESSAGE)
    return row


def account_token_redeem(*, row: AccountToken) -> None:
    """Use the token once. Call inside the transaction of what it authorises; a second use, even at
    the same moment from another client, raises TOKEN_INVALID (see the module docstring)."""
    assert transaction.get_connection().in_atomic_block, "redeem inside the transaction of the change"
    now = timezone.now()
    used = AccountToken.objects.filter(pk=row.pk, used_at__isnull=True, expires_at__gt=now).update(used_at=now)
    if used != 1:
        raise TokenError(ErrorCode.TOKEN_INVALID, INVALID_MESSAGE)
    row.used_at = now


def account_tokens_purge(*, now: datetime | None = None) -> int:
    """Delete tokens that can no longer be used and no longer count towards a rate limit.

    A row counts towards the reset limits while it was created within PASSWORD_RESET_WINDOW; one
    that expired or was used before that window began was created before it too.
    """
    cutoff = (now or timezone.now()) - settings.PASSWORD_RESET_WINDOW
    stale = AccountToken.objects.filter(models.Q(expires_at__lt=cutoff) | models.Q(used_at__lt=cutoff))
    deleted, _ = stale.delete()
    return deleted
