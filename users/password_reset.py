"""Password reset: a request that tells nobody whether an address has an account, and a single-use token.

`password_reset_request` does the same work for every address: the same rate-limit check, the
same lookup, the same token row written (bound to nobody for an unknown address, so it redeems
nothing) and the same audit row. Only the mail differs, and care.accounts writes it with the same
number of statements either way. The rows of the token table are also what the limits count:
PASSWORD_RESET_PER_ADDRESS per address and PASSWORD_RESET_PER_IP per IP in a sliding
PASSWORD_RESET_WINDOW, known and unknown addresses alike.
"""

import hashlib
import math
from datetime import datetime

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from audit.models import Action, Outcome
from audit.services import audit_event_record
from users.account_tokens import account_token_issue, account_token_peek, account_token_redeem
from users.errors import RateLimited, TokenError
from users.models import AccountToken, AccountTokenPurpose, User
from users.sessions import sessions_revoke_all

RATE_LIMITED_MESSAGE = "Too many password reset requests. Try again later."
EMAIL_MAX_LENGTH = 254
# pg_advisory_xact_lock(int, int): the first key says "password reset requests".
ADVISORY_LOCK_NAMESPACE = int.from_bytes(hashlib.sha256(b"users.password_reset").digest()[:4], "big", signed=True)


def address_digest(email: str) -> str:
    """A keyed digest of the address as asked for (case-folded): the table never holds an address."""
    return salted_hmac("users.password_reset.address", email.strip().casefold(), algorithm="sha256").hexdigest()


def _serialise(digest: str) -> None:
    """On PostgreSQL, one request per address at a time (the count and the insert are one step).

    SQLite's IMMEDIATE transactions already run one writer at a time.
    """
    if connection.vendor == "postgresql":
        key = int(digest[:8], 16) - 2**31
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ADVISORY_LOCK_NAMESPACE, key])


def _throttle(*, digest: str, ip: str | None, now: datetime) -> None:
    """RateLimited past either limit: one aggregate query over the window's requests."""
    window_start = now - settings.PASSWORD_RESET_WINDOW
    by_address, by_ip = Q(address_digest=digest), Q(ip=ip) if ip else Q(pk__isnull=True)
    counts = AccountToken.objects.filter(
        by_address | by_ip, purpose=AccountTokenPurpose.PASSWORD_RESET, created_at__gt=window_start
    ).aggregate(
        for_address=Count("pk", filter=by_address),
        for_address_oldest=Min("created_at", filter=by_address),
        for_ip=Count("pk", filter=by_ip),
        for_ip_oldest=Min("created_at", filter=by_ip),
    )
    frees: list[datetime] = []
    if counts["for_address"] >= settings.PASSWORD_RESET_PER_ADDRESS:
        frees.append(counts["for_address_oldest"] + settings.PASSWORD_RESET_WINDOW)
    if counts["for_ip"] >= settings.PASSWORD_RESET_PER_IP:
        frees.append(counts["for_ip_oldest"] + settings.PASSWORD_RESET_WINDOW)
    if frees:
        raise RateLimited(RATE_LIMITED_MESSAGE, retry_after=max(1, math.ceil((max(frees) - now).total_seconds())))


@transaction.atomic
def password_reset_request(*, email: str, ip: str | None) -> tuple[AccountToken, str]:
    """A reset token for the active account with this address, if any: (row, clear token).

    The row's `user` is None for an address without an active account. Raises RateLimited.
    """
    email = (email or "")[:EMAIL_MAX_LENGTH]
    now = timezone.now()
    digest = address_digest(email)
    _serialise(digest)
    _throttle(digest=digest, ip=ip, now=now)
    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    row, clear = account_token_issue(
        purpose=AccountTokenPurpose.PASSWORD_RESET, user=user, address_digest=digest, ip=ip, now=now
    )
    audit_event_record(actor=None, action=Action.PASSWORD_RESET_REQUEST, obj=row)
    return row, clear


def password_reset(*, token: str, new_password: str) -> User:
    """Set a new password with a reset token (once), and end every session and access token of the account.

    A wrong, used or expired token is TokenError (audited as refused); a password the validators
    refuse leaves the token unused.
    """
    try:
        row = account_token_peek(purpose=AccountTokenPurpose.PASSWORD_RESET, token=token)
        user = row.user
        try:
            validate_password(new_password, user)
        except ValidationError as error:
            raise ValidationError({"new_password": error.messages}) from error
        with transaction.atomic():
            account_token_redeem(row=row)
            user.set_password(new_password)
            user.save(update_fields=["password"])
            sessions_revoke_all(user=user)
            audit_event_record(actor=user, action=Action.PASSWORD_RESET, obj=row)
    except TokenError:
        audit_event_record(actor=None, action=Action.PASSWORD_RESET, outcome=Outcome.DENIED)
        raise
    return user
