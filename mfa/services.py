"""TOTP (RFC 6238) as a second factor: enrolment, login with a code, step-up, disable, staff reset.

Every code is checked inside users.lockout's critical section for the username: a wrong code
counts like a wrong password (both limits), nothing is checked once a limit refuses, and two
requests racing with one code are serialised, so the second sees the first's `last_used_step`
(a code is accepted once). A code of the current or the previous 30-second step is accepted
(RFC 6238 section 5.2: one step of delay), never one of a step at or before the last accepted.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from audit.models import Action, Outcome
from audit.services import audit_event_record
from mfa.crypto import secret_decrypt, secret_encrypt
from mfa.models import MfaChallenge, RecoveryCode, TotpDevice
from users.errors import Conflict, ErrorCode, NotAuthenticated, TokenError
from users.lockout import LoginAttempt, login_attempt
from users.models import RefreshToken, User
from users.sessions import LOGIN_FAILED_MESSAGE, session_create, sessions_revoke_all
from users.step_up import WRONG_CODE_MESSAGE, step_up_verify

# The access-token claim of a session that may only enrol (a role in MFA_REQUIRED_ROLES without TOTP).
ENROL_ONLY_CLAIM = "mfa"
ENROL_ONLY = "enrol"
CHALLENGE_LIFETIME = timedelta(minutes=5)
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # 12 of these: 60 bits
TOTP_CODE = re.compile(r"\d{6}")
INVALID_MFA_TOKEN = "The MFA token is invalid. Sign in again."


@dataclass(frozen=True)
class LoginStart:
    """tokenAuth's outcome: a session, or (TOTP on) a challenge whose clear token goes to the client."""

    user: User
    refresh: RefreshToken | None = None
    mfa_token: str | None = None


# --- reads --------------------------------------------------------------------------------------


def totp_enabled_for(*, user: User) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def mfa_required_for(*, user: User) -> bool:
    """The user's role is in MFA_REQUIRED_ROLES (no query when the setting is empty)."""
    roles = settings.MFA_REQUIRED_ROLES
    return bool(roles) and user.role in roles


def access_token_claims_for(*, user: User) -> dict:
    """Extra claims of `user`'s next access token: enrol-only while a required role has no TOTP."""
    if mfa_required_for(user=user) and not totp_enabled_for(user=user):
        return {ENROL_ONLY_CLAIM: ENROL_ONLY}
    return {}


# --- codes --------------------------------------------------------------------------------------


def recovery_code_digest(code: str) -> str:
    """Keyed (SECRET_KEY), so a copy of the table alone cannot test guesses offline."""
    normalized = re.sub(r"[\s-]", "", code).lower()
    return salted_hmac("mfa.recovery-code", normalized, algorithm="sha256").hexdigest()


def _recovery_codes_issue(*, user: User) -> list[str]:
    """Ten new single-use codes (the old ones end); only their digests are stored."""
    RecoveryCode.objects.filter(user=user).delete()
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_CODE_ALPHABET) for _ in range(12))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    RecoveryCode.objects.bulk_create(RecoveryCode(user=user, digest=recovery_code_digest(code)) for code in codes)
    return codes


def _totp_step(device: TotpDevice, code: str, now: datetime) -> int | None:
    """The time step `code` belongs to (current or previous), if it is newer than the last accepted."""
    totp = pyotp.TOTP(secret_decrypt(device.secret_encrypted))
    current = totp.timecode(now)
    last = device.last_used_step if device.last_used_step is not None else -1
    for step in (current, current - 1):
        if step > last and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def totp_verify_in_attempt(*, user: User, code: str, attempt: LoginAttempt, enrolling: bool = False) -> bool:
    """Check `code` for `user` inside `attempt`'s critical section; a wrong one counts as a failure.

    A TOTP code of the confirmed device (of the one being enrolled with `enrolling`), or, after
    enrolment, an unused recovery code, which is used up. False, with `attempt.refusal` set, when a
    limit refuses before anything is checked.
    """
    if not attempt.allowed():
        return False
    now = timezone.now()
    device = TotpDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=enrolling).first()
    code = (code or "").strip()
    accepted = False
    if device is not None and TOTP_CODE.fullmatch(code):
        step = _totp_step(device, code, now)
        if step is not None:
            device.last_used_step = step
            device.save(update_fields=["last_used_step"])
            accepted = True
    elif device is not None and not enrolling and code:
        used = RecoveryCode.objects.filter(user=user, digest=recovery_code_digest(code), used_at__isnull=True).update(
            used_at=now
        )
        if used:
            audit_event_record(actor=user, action=Action.MFA_RECOVERY_CODE_USED, obj=user)
            accepted = True
    if not accepted:
        attempt.fail()
        audit_event_record(actor=user, action=Action.MFA_FAILURE, outcome=Outcome.DENIED, obj=user)
    return accepted


# --- login --------------------------------------------------------------------------------------


def _challenge_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login_start(*, request, username: str, password: str) -> LoginStart:
    """tokenAuth: users.sessions.session_start's password login, which stops at a challenge when TOTP is on.

    The password is checked under users.lockout; with TOTP on, the username+IP count is not reset
    until the code is right too, and no session exists before.
    """
    pending = False
    with login_attempt(request, username) as attempt:
        user = attempt.authenticate(password, reset=False)
        if user is not None:
            pending = totp_enabled_for(user=user)
            if not pending:
                attempt.succeeded()
                user_logged_in.send(sender=user.__class__, request=request, user=user)
    if user is None:
        audit_event_record(actor=None, action=Action.LOGIN_FAILURE, outcome=Outcome.DENIED)
        raise attempt.refusal or NotAuthenticated(LOGIN_FAILED_MESSAGE)
    with transaction.atomic():
        if pending:
            token = secrets.token_urlsafe(32)
            now = timezone.now()
            MfaChallenge.objects.filter(expires_at__lte=now).delete()  # housekeeping: expired ones are dead
            MfaChallenge.objects.create(
                user=user, token_digest=_challenge_digest(token), created_at=now, expires_at=now + CHALLENGE_LIFETIME
            )
            audit_event_record(actor=user, action=Action.MFA_CHALLENGE, obj=user)
            return LoginStart(user=user, mfa_token=token)
        audit_event_record(actor=user, action=Action.LOGIN_SUCCESS)
        return LoginStart(user=user, refresh=session_create(user=user))


def login_verify(*, request, mfa_token: str, code: str) -> tuple[User, RefreshToken]:
    """verifyMfa: the code (or a recovery code) for a challenge; a session once it is right.

    The challenge is used up by the success only: a wrong code may be corrected within the five
    minutes, each try counting towards the lockout.
    """
    challenge = MfaChallenge.objects.select_related("user").filter(token_digest=_challenge_digest(mfa_token)).first()
    if challenge is None or challenge.used_at is not None or not challenge.user.is_active:
        raise TokenError(ErrorCode.TOKEN_INVALID, INVALID_MFA_TOKEN)
    if timezone.now() >= challenge.expires_at:
        raise TokenError(ErrorCode.TOKEN_EXPIRED, "The MFA token has expired. Sign in again.")
    user = challenge.user
    error: Exception | None = None
    with login_attempt(request, user.get_username()) as attempt:
        # Again under the lock: a parallel verifyMfa may have used the challenge meanwhile.
        unused = MfaChallenge.objects.select_for_update().filter(pk=challenge.pk, used_at__isnull=True).exists()
        if not unused:
            error = TokenError(ErrorCode.TOKEN_INVALID, INVALID_MFA_TOKEN)
        elif totp_verify_in_attempt(user=user, code=code, attempt=attempt):
            MfaChallenge.objects.filter(pk=challenge.pk).update(used_at=timezone.now())
            attempt.succeeded()
            user_logged_in.send(sender=user.__class__, request=request, user=user)
            audit_event_record(actor=user, action=Action.LOGIN_SUCCESS)
            refresh = session_create(user=user)
        else:
            error = attempt.refusal or NotAuthenticated(WRONG_CODE_MESSAGE)
    # Raised after the block: raising inside would roll the recorded failure back.
    if error is not None:
        raise error
    return user, refresh


# --- enrolment, disable, reset ------------------------------------------------------------------


@transaction.atomic
def totp_enrollment_start(*, user: User) -> tuple[str, str]:
    """A new secret for `user` (replacing an unconfirmed one): (base32 secret, otpauth:// URI)."""
    if totp_enabled_for(user=user):
        raise Conflict("TOTP is already on. Turn it off first to enrol another authenticator.")
    secret = pyotp.random_base32()
    TotpDevice.objects.update_or_create(
        user=user,
        defaults={"secret_encrypted": secret_encrypt(secret), "confirmed_at": None, "last_used_step": None},
    )
    audit_event_record(actor=user, action=Action.MFA_ENROLL_START, obj=user)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.get_username(), issuer_name=settings.MFA_ISSUER)
    return secret, uri


def totp_enrollment_confirm(*, user: User, code: str, request) -> list[str]:
    """Turn TOTP on with a first code from the app; the ten recovery codes, shown this once."""
    error: Exception | None = None
    codes: list[str] = []
    with login_attempt(request, user.get_username()) as attempt:
        if not TotpDevice.objects.filter(user=user, confirmed_at__isnull=True).exists():
            error = Conflict("There is no enrolment to confirm: call startTotpEnrollment first.")
        elif totp_verify_in_attempt(user=user, code=code, attempt=attempt, enrolling=True):
            TotpDevice.objects.filter(user=user).update(confirmed_at=timezone.now())
            codes = _recovery_codes_issue(user=user)
            audit_event_record(actor=user, action=Action.MFA_ENABLE, obj=user)
        else:
            error = attempt.refusal or ValidationError({"code": [WRONG_CODE_MESSAGE]})
    if error is not None:
        raise error
    return codes


def totp_disable(*, user: User, password: str, code: str, request) -> None:
    """Turn TOTP off after the password and a code (users.step_up); recovery codes end with it."""
    if not totp_enabled_for(user=user):
        raise Conflict("TOTP is not on.")
    step_up_verify(user=user, password=password, code=code, request=request)
    with transaction.atomic():
        TotpDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
        audit_event_record(actor=user, action=Action.MFA_DISABLE, obj=user)


@transaction.atomic
def mfa_reset(*, acting_user: User, user_id) -> User:
    """Staff, after checking the person's identity outside the system: TOTP and recovery codes end,
    and so does every session of the user, who signs in with the password and enrols again."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise ObjectDoesNotExist("No such user.")
    TotpDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    MfaChallenge.objects.filter(user=user).delete()
    sessions_revoke_all(user=user)
    audit_event_record(actor=acting_user, action=Action.MFA_RESET, obj=user)
    return user
