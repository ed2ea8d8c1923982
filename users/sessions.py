"""Sessions: login, refresh-token families with rotation and reuse detection, logout (everywhere).

django-graphql-jwt stays the machinery (JWT_PAYLOAD_HANDLER, JWT_GET_REFRESH_TOKEN_HANDLER and
JWT_REFRESH_TOKEN_MODEL point here and at users.models.RefreshToken); this module adds what it lacks:
families (RFC 9700 §4.14.2), digests instead of clear tokens, idle and absolute expiry, and a
session version that ends every access token of a user at once.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac

from audit.context import current_origin
from audit.models import Action, Outcome
from audit.services import audit_event_record
from users.errors import ErrorCode, NotAuthenticated, TokenError
from users.lockout import login_attempt
from users.models import RefreshToken, SessionEndReason, SessionFamily, User, refresh_token_digest
from users.token_library import jwt_settings, library_jwt_payload

logger = logging.getLogger("users.sessions")

SESSION_VERSION_CLAIM = "sv"
SESSION_ID_CLAIM = "sid"
LOGIN_FAILED_MESSAGE = "Invalid username or password."


# --- django-graphql-jwt handlers --------------------------------------------------------------


def jwt_payload(user: User, context=None) -> dict:
    """JWT_PAYLOAD_HANDLER: the library's claims plus the user's session version."""
    payload = library_jwt_payload(user, context)
    payload[SESSION_VERSION_CLAIM] = user.session_version
    return payload


def get_refresh_token_by_digest(refresh_token_model, token: str, context=None):
    """JWT_GET_REFRESH_TOKEN_HANDLER: look a presented token up by its digest, never in clear."""
    return refresh_token_model.objects.get(token=refresh_token_digest(token), revoked__isnull=True)


def axes_username(request, credentials: dict | None) -> str | None:
    """AXES_USERNAME_CALLABLE: the username axes keys its lockout on, cut to what its column holds.

    A 10,000-character "username" must fail like any other unknown user, not overflow axes' row.
    """
    username = (credentials or {}).get(User.USERNAME_FIELD)
    return username[:255] if isinstance(username, str) else username


# --- limits -------------------------------------------------------------------------------------


def idle_timeout() -> timedelta:
    return settings.JWT_REFRESH_IDLE_TIMEOUT


def absolute_lifetime() -> timedelta:
    return jwt_settings.JWT_REFRESH_EXPIRATION_DELTA


def reuse_grace() -> timedelta:
    return timedelta(seconds=settings.JWT_REFRESH_REUSE_GRACE_SECONDS)


def session_expires_at(family: SessionFamily) -> datetime:
    """When the family ends unless refreshed: idle limit or absolute cap, whichever comes first."""
    return min(family.last_used_at + idle_timeout(), family.created_at + absolute_lifetime())


# --- reads --------------------------------------------------------------------------------------


def sessions_live_for(*, user: User) -> QuerySet[SessionFamily]:
    """The user's families that can still refresh (filtered in SQL)."""
    now = timezone.now()
    return SessionFamily.objects.filter(
        user=user,
        revoked_at__isnull=True,
        last_used_at__gt=now - idle_timeout(),
        created_at__gt=now - absolute_lifetime(),
    ).order_by("-last_used_at", "id")


# --- writes -------------------------------------------------------------------------------------


def _family_end(family: SessionFamily, *, reason: SessionEndReason, now: datetime) -> None:
    family.revoked_at = now
    family.end_reason = reason
    family.save(update_fields=["revoked_at", "end_reason"])
    family.tokens.filter(revoked__isnull=True).update(revoked=now)


@transaction.atomic
def session_create(*, user: User) -> RefreshToken:
    """A new family for `user` and its first refresh token (the clear value: `.get_token()`)."""
    origin = current_origin()
    now = timezone.now()
    family = SessionFamily.objects.create(
        user=user, created_at=now, last_used_at=now, user_agent=origin.user_agent[:256], ip=origin.ip
    )
    return RefreshToken.objects.create(user=user, family=family)


def session_start(*, request, username: str, password: str) -> tuple[User, RefreshToken]:
    """Password login under users.lockout's limits. Unknown users and wrong passwords fail alike.

    The check against both limits, the password hash and the recording of a failure (or the
    reset after a success) happen in one critical section per username, whichever process
    answers. A refusal, or the failure that reaches a limit, answers RateLimited (with
    `retry_after`). For an unknown username Django's ModelBackend still hashes the password
    once, so timing does not tell the two failures apart either.
    """
    with login_attempt(request, username) as attempt:
        user = attempt.authenticate(password)
        if user is not None:
            user_logged_in.send(sender=user.__class__, request=request, user=user)
    if user is None:
        audit_event_record(actor=None, action=Action.LOGIN_FAILURE, outcome=Outcome.DENIED)
        raise attempt.refusal or NotAuthenticated(LOGIN_FAILED_MESSAGE)
    with transaction.atomic():
        audit_event_record(actor=user, action=Action.LOGIN_SUCCESS)
        refresh = session_create(user=user)
    return user, refresh


def successor_token(token: str, family: SessionFamily) -> str:
    """The refresh token that rotating `token` yields while a grace window is on.

    Derived, not random, so that a repeat within the window can answer the same new token
    although the database keeps only digests: a keyed HMAC of the presented clear token. The
    database alone cannot yield it (it holds neither the key nor the old token), nothing more is
    stored, and whoever holds the key (JWT_SECRET_KEY) can forge access tokens anyway. Same
    form as the library's random tokens (JWT_REFRESH_TOKEN_N_BYTES as hex).
    """
    digest = salted_hmac(
        "clinic.refresh-successor", f"{family.pk}:{token}", secret=settings.JWT_SECRET_KEY, algorithm="sha256"
    ).hexdigest()
    return digest[: 2 * jwt_settings.JWT_REFRESH_TOKEN_N_BYTES]


def _successor_create(*, user: User, family: SessionFamily, token: str) -> RefreshToken:
    successor = RefreshToken(user=user, family=family, token=refresh_token_digest(token))
    successor._cached_token = token  # what get_token() returns: the creator holds the clear value
    successor.save()
    return successor


def _successor_within_grace(refresh: RefreshToken, token: str, now: datetime) -> RefreshToken | None:
    """The live token that rotating `refresh` (presented again as `token`) just made, if within the window.

    Only the just-rotated token: once its successor was rotated too, or after the window, or
    when the session ended, a repeat is reuse.
    """
    grace = reuse_grace()
    if not grace or refresh.family.revoked_at is not None or now - refresh.revoked > grace:
        return None
    clear = successor_token(token, refresh.family)
    successor = (
        RefreshToken.objects.filter(token=refresh_token_digest(clear), family=refresh.family, revoked__isnull=True)
        .select_related("user", "family")
        .first()
    )
    if successor is not None:
        successor._cached_token = clear
    return successor


def session_refresh(*, token: str | None, request=None) -> tuple[User, RefreshToken]:
    """Rotate: the presented token is revoked and a new one of the same family returned.

    A token that was already rotated or revoked ends its whole family (reuse detection). The
    family's end is committed before the error is raised, so the error cannot roll it back.
    Within JWT_REFRESH_REUSE_GRACE_SECONDS of its rotation, the just-rotated token answers the
    same new token again instead (racing tabs; the row lock makes every racer wait for the first).
    """
    if not token:
        raise TokenError(ErrorCode.TOKEN_INVALID, "A refresh token is required.")
    error: TokenError | None = None
    with transaction.atomic():
        refresh = (
            RefreshToken.objects.select_for_update(of=("self", "family"))
            .select_related("user", "family")
            .filter(token=refresh_token_digest(token))
            .first()
        )
        if refresh is None:
            raise TokenError(ErrorCode.TOKEN_INVALID, "The refresh token is invalid.")
        family, user, now = refresh.family, refresh.user, timezone.now()
        repeat = _successor_within_grace(refresh, token, now) if refresh.revoked is not None else None
        if repeat is not None and now < session_expires_at(family) and user.is_active:
            logger.info("Refresh token repeated within the grace window: session %s", family.pk)
            return user, repeat
        if refresh.revoked is not None or family.revoked_at is not None:
            if family.revoked_at is None:
                logger.warning("Refresh token reuse: ending session %s of user %s", family.pk, user.pk)
                _family_end(family, reason=SessionEndReason.REUSE, now=now)
            error = TokenError(ErrorCode.TOKEN_REVOKED, "The refresh token has been revoked.")
        elif now >= session_expires_at(family):
            _family_end(family, reason=SessionEndReason.EXPIRED, now=now)
            error = TokenError(ErrorCode.TOKEN_EXPIRED, "The session has expired. Sign in again.")
        elif not user.is_active:
            _family_end(family, reason=SessionEndReason.ALL_SESSIONS, now=now)
            error = TokenError(ErrorCode.TOKEN_INVALID, "The refresh token is invalid.")
        else:
            refresh.revoke(request)
            family.last_used_at = now
            family.save(update_fields=["last_used_at"])
            if reuse_grace():
                new_refresh = _successor_create(user=user, family=family, token=successor_token(token, family))
            else:
                new_refresh = RefreshToken.objects.create(user=user, family=family)
    if error is not None:
        raise error
    return user, new_refresh


@transaction.atomic
def session_revoke(*, token: str | None, request=None) -> bool:
    """Logout: end the family of the presented refresh token. Ending an ended one is a no-op."""
    if not token:
        raise TokenError(ErrorCode.TOKEN_INVALID, "A refresh token is required.")
    refresh = (
        RefreshToken.objects.select_for_update(of=("self", "family"))
        .select_related("family")
        .filter(token=refresh_token_digest(token))
        .first()
    )
    if refresh is None:
        raise TokenError(ErrorCode.TOKEN_INVALID, "The refresh token is invalid.")
    if refresh.family.revoked_at is None:
        _family_end(refresh.family, reason=SessionEndReason.LOGOUT, now=timezone.now())
    return True


@transaction.atomic
def sessions_revoke_all(*, user: User, reason: SessionEndReason = SessionEndReason.ALL_SESSIONS) -> int:
    """End every session of `user`: access tokens (session version) and refresh families alike."""
    User.objects.filter(pk=user.pk).update(session_version=F("session_version") + 1)
    user.session_version = User.objects.values_list("session_version", flat=True).get(pk=user.pk)
    now = timezone.now()
    RefreshToken.objects.filter(user=user, revoked__isnull=True).update(revoked=now)
    return SessionFamily.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now, end_reason=reason)


@transaction.atomic
def session_revoke_by_id(*, user: User, session_id) -> SessionFamily:
    """End one of the caller's own live sessions; anyone else's looks missing."""
    family = sessions_live_for(user=user).select_for_update().filter(pk=session_id).first()
    if family is None:
        raise ObjectDoesNotExist("No such session.")
    _family_end(family, reason=SessionEndReason.REVOKED, now=timezone.now())
    return family


def password_change(*, request, user: User, old_password: str, new_password: str) -> RefreshToken:
    """Change the caller's password, end all their sessions, and start a new one for this caller.

    The old password is checked like a login (users.lockout), so guesses count towards both limits.
    """
    with login_attempt(request, user.get_username()) as attempt:
        checked = attempt.authenticate(old_password)
    if checked is None:
        if attempt.refusal is not None:
            raise attempt.refusal
        raise ValidationError({"old_password": ["The current password is incorrect."]})
    try:
        validate_password(new_password, user)
    except ValidationError as error:
        raise ValidationError({"new_password": error.messages}) from error
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        sessions_revoke_all(user=user)
        return session_create(user=user)


@transaction.atomic
def user_deactivate(*, user: User) -> User:
    """Deactivate a user; their access and refresh tokens stop working at once."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    sessions_revoke_all(user=user)
    return user
