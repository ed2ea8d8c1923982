"""Password checks that hold under concurrency: serialised per username, budgeted across IPs.

Every password check (tokenAuth, changePassword, the admin login form) goes through
`login_attempt(request, username)`. Inside it, one transaction holds a lock for the username
from before django-axes' check until the failure is recorded (or a success has reset the
count): on PostgreSQL a transaction-scoped advisory lock, on SQLite the database's write lock
(the transaction writes first). Without it, attempts checked the count, hashed, and recorded
the failure independently: four failures plus three wrong and one right password sent at once
let the right one in, and N parallel wrong guesses could count fewer than N.

The lock is per username, not per username+IP, so that the per-username budget across all
IPs is exact as well: parallel guesses from many IPs cannot each pass a check that one of them
has already used up. Attempts for one username queue behind each other; each holds the lock
for at most one password hash, and refused attempts hash nothing.

Two limits apply:
- django-axes, per username AND IP: AXES_FAILURE_LIMIT failures lock the pair out for
  AXES_COOLOFF_TIME (`retryAfter`: the rest of the cool-off).
- Per username across all IPs (LOGIN_USERNAME_*): LOGIN_USERNAME_FAILURE_BUDGET failures within
  LOGIN_USERNAME_WINDOW (sliding), then each further password check must wait a delay that
  doubles with every further failure (LOGIN_USERNAME_FIRST_DELAY, ...) up to
  LOGIN_USERNAME_MAX_DELAY after the last failure. Refused attempts are not failures, so nobody
  can push the wait beyond the maximum: the account is never locked for good. An IP from which
  the user has signed in with this password within LOGIN_USERNAME_KNOWN_IP_AGE is exempt (the
  per-pair lockout still applies there), so a stranger's guessing does not keep the real user
  out. Unknown usernames are counted exactly like known ones.
"""

import hashlib
import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.db import OperationalError, connection, transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.crypto import salted_hmac

from users.errors import RateLimited
from users.models import LoginFailure, SessionFamily, User

logger = logging.getLogger("users.sessions")

LOCKED_OUT_MESSAGE = "Too many failed login attempts. Try again later."
# The hook for a "lockouts" counter: one WARNING with this exact format each time a limit
# triggers (the failure that reaches it), never for the refusals that follow. `scope` is
# "username_ip" (axes) or "username" (the per-username budget); the account is a short digest.
LOCKOUT_LOG_MESSAGE = "Login lockout triggered: scope=%s account=%s"
SCOPE_USERNAME_IP = "username_ip"
SCOPE_USERNAME = "username"

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout expires
# pg_advisory_xact_lock(int, int): the first key says "login attempts", so these locks never
# collide with advisory locks taken elsewhere for other purposes.
ADVISORY_LOCK_NAMESPACE = int.from_bytes(hashlib.sha256(b"users.lockout").digest()[:4], "big", signed=True)


def username_key(username) -> str:
    """What both limits key on: the username as axes stores it (cut to its column's 255)."""
    return username[:255] if isinstance(username, str) else str(username or "")


def username_digest(username: str) -> str:
    """A keyed digest of the username: the per-username rows never hold a name (or a pasted password)."""
    return salted_hmac("users.lockout.username", username_key(username), algorithm="sha256").hexdigest()


def advisory_lock_keys(username: str) -> tuple[int, int]:
    """The two int4 keys of `username`'s pg_advisory_xact_lock (a collision only serialises more)."""
    key = int.from_bytes(hashlib.sha256(username_key(username).encode()).digest()[:4], "big", signed=True)
    return ADVISORY_LOCK_NAMESPACE, key


def _lock(username: str) -> bool:
    """Serialise this transaction with every other attempt for `username`, in any process.

    False when the lock was not granted within LOGIN_LOCK_WAIT (too many attempts queued for
    the name): better a RATE_LIMITED than a statement timeout's INTERNAL.
    """
    if connection.vendor != "postgresql":
        # SQLite: the transaction holds the database's single write lock from its BEGIN
        # IMMEDIATE (or, in DEFERRED mode, from LoginAttempt.begin's write) until it ends.
        return True
    wait_ms = int(settings.LOGIN_LOCK_WAIT.total_seconds() * 1000)
    try:
        with transaction.atomic(), connection.cursor() as cursor:  # a savepoint: a timeout leaves the rest usable
            cursor.execute(f"SET LOCAL lock_timeout = {wait_ms}")
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", advisory_lock_keys(username))
            cursor.execute("SET LOCAL lock_timeout TO DEFAULT")
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            return False
        raise
    return True


def _busy_refusal() -> RateLimited:
    return RateLimited(LOCKED_OUT_MESSAGE, retry_after=max(1, math.ceil(settings.LOGIN_LOCK_WAIT.total_seconds())))


def _retry_after(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


@dataclass
class LoginAttempt:
    """One password check for `username` from `request`, inside `login_attempt`'s critical section."""

    request: object
    username: str
    now: datetime = field(default_factory=timezone.now)
    refusal: RateLimited | None = None
    exempt: bool | None = None  # from a known IP: None until asked (only once the budget is spent)

    @property
    def credentials(self) -> dict:
        return {User.USERNAME_FIELD: self.username}

    @property
    def digest(self) -> str:
        return username_digest(self.username)

    @property
    def ip(self) -> str | None:
        AxesProxyHandler.update_request(self.request)
        return self.request.axes_ip_address

    def begin(self) -> None:
        # A write first (also on PostgreSQL, where it is just housekeeping): failures older
        # than the window no longer count for this username.
        window_start = self.now - settings.LOGIN_USERNAME_WINDOW
        LoginFailure.objects.filter(username_digest=self.digest, failed_at__lte=window_start).delete()

    def allowed(self) -> bool:
        """Whether both limits let this attempt check anything; if not, `refusal` says why and until when."""
        if self.refusal is not None:  # the lock was not granted: nothing checked, nothing counted
            return False
        if not AxesProxyHandler.is_allowed(self.request, self.credentials):
            self.refusal = RateLimited(LOCKED_OUT_MESSAGE, retry_after=self._pair_retry_after())
            return False
        wait = self._username_wait()
        if wait:
            self.refusal = RateLimited(LOCKED_OUT_MESSAGE, retry_after=wait)
            return False
        return True

    def authenticate(self, password: str, *, reset: bool = True) -> User | None:
        """Check the password unless a limit refuses first (then `refusal` says why and until when).

        A failure is recorded before this returns; a success resets the username+IP count, unless
        `reset` is False: a login that still owes a second factor resets it (`succeeded`) only once
        the code is right, so that a known password does not wipe the count of wrong codes.
        """
        if not self.allowed():
            return None
        user = authenticate(self.request, username=self.username, password=password)
        if user is not None:
            if reset:
                self.succeeded()
            return user
        self._record_failure()
        return None

    def succeeded(self) -> None:
        """Reset the username+IP count after a complete success (the per-username budget slides on)."""
        # Here and not on user_logged_in (AXES_RESET_ON_SUCCESS is off): a reset after the
        # lock is released would wipe failures recorded in between.
        AxesProxyHandler.get_implementation().reset_user_attempts(self.request, self.credentials)

    def fail(self) -> None:
        """Count a wrong second factor (TOTP or recovery code) checked in this section like a wrong password.

        Both limits see it: django-axes through the same signal a failed password sends (so the
        username+IP pair locks out), and the per-username budget (`refusal` is set when a limit is
        reached). Call it inside `login_attempt`, where the lock is held.
        """
        user_login_failed.send(sender=__name__, credentials=self.credentials, request=self.request)
        self._record_failure()

    # --- the username+IP pair (django-axes) ----------------------------------------------------

    def _pair_retry_after(self) -> int:
        handler = AxesProxyHandler.get_implementation()
        times = [
            attempts.aggregate(last=Max("attempt_time"))["last"]
            for attempts in handler.get_user_attempts(self.request, self.credentials)
        ]
        last = max((moment for moment in times if moment is not None), default=self.now)
        return _retry_after(last + get_cool_off(self.request), self.now)

    # --- the username across IPs ---------------------------------------------------------------

    def _username_failures(self) -> tuple[int, datetime | None]:
        window_start = self.now - settings.LOGIN_USERNAME_WINDOW
        found = LoginFailure.objects.filter(username_digest=self.digest, failed_at__gt=window_start).aggregate(
            count=Count("id"), last=Max("failed_at")
        )
        return found["count"], found["last"]

    @staticmethod
    def _delay(failures: int) -> timedelta:
        """How long after the last failure the next check must wait, `failures` within the window."""
        beyond = failures - settings.LOGIN_USERNAME_FAILURE_BUDGET
        if beyond < 0:
            return timedelta(0)
        maximum = settings.LOGIN_USERNAME_MAX_DELAY
        return min(settings.LOGIN_USERNAME_FIRST_DELAY * 2 ** min(beyond, 32), maximum)

    def _username_wait(self) -> int:
        """Seconds this attempt must still wait under the per-username budget (0: go ahead)."""
        failures, last = self._username_failures()
        if failures < settings.LOGIN_USERNAME_FAILURE_BUDGET:
            return 0
        until = last + self._delay(failures)
        if until <= self.now or self._from_known_ip():
            return 0
        return _retry_after(until, self.now)

    def _from_known_ip(self) -> bool:
        """The user signed in with their password from this IP recently.

        One query whether the name exists or not, asked only once the budget is spent, the same
        for every name: neither the answer's shape nor its cost tells names apart.
        """
        if self.exempt is None:
            self.exempt = SessionFamily.objects.filter(
                user__username=self.username,
                ip=self.ip,
                created_at__gt=self.now - settings.LOGIN_USERNAME_KNOWN_IP_AGE,
            ).exists()
        return self.exempt

    def _record_failure(self) -> None:
        LoginFailure.objects.create(username_digest=self.digest, failed_at=self.now)
        # Rows of usernames nobody tries again would stay for ever: clear a few expired ones
        # with each failure, skipping rows another transaction is clearing.
        expired = (
            LoginFailure.objects.filter(failed_at__lte=self.now - settings.LOGIN_USERNAME_WINDOW)
            .order_by("pk")
            .select_for_update(skip_locked=True)
            .values("pk")[:100]
        )
        LoginFailure.objects.filter(pk__in=expired).delete()
        account = self.digest[:12]
        if getattr(self.request, "axes_locked_out", False):
            logger.warning(LOCKOUT_LOG_MESSAGE, SCOPE_USERNAME_IP, account)
            self.refusal = RateLimited(LOCKED_OUT_MESSAGE, retry_after=self._pair_retry_after())
            return
        failures, _last = self._username_failures()
        if failures == settings.LOGIN_USERNAME_FAILURE_BUDGET:
            logger.warning(LOCKOUT_LOG_MESSAGE, SCOPE_USERNAME, account)
        if failures >= settings.LOGIN_USERNAME_FAILURE_BUDGET and not self._from_known_ip():
            wait = self._delay(failures)
            self.refusal = RateLimited(LOCKED_OUT_MESSAGE, retry_after=_retry_after(self.now + wait, self.now))


@contextmanager
def login_attempt(request, username) -> Iterator[LoginAttempt]:
    """The critical section of one password check for `username` (see the module docstring).

    Whatever the caller does inside (e.g. user_logged_in on success) is part of it. Never raise
    inside to report a failure: that would roll the recorded failure back. Check `refusal`
    (a RateLimited) and the returned user after the block instead.
    """
    attempt = LoginAttempt(request=request, username=username_key(username))
    began = False
    try:
        with transaction.atomic():
            began = True
            if _lock(attempt.username):
                # The clock starts once the lock is held: an attempt that waited for it must not
                # see the failures recorded meanwhile as later than itself.
                attempt.now = timezone.now()
                attempt.begin()
            else:
                attempt.refusal = _busy_refusal()
            yield attempt
    except OperationalError as error:
        # SQLite: BEGIN IMMEDIATE waited out the busy timeout for the write lock. Only then (not
        # for an error of the caller's block, which was never entered) the attempt is refused.
        if began or "database is locked" not in str(error):
            raise
        attempt.refusal = _busy_refusal()
        yield attempt
