"""The Django admin's session follows the API's session rules (DESIGN section 4).

The admin is the one part of the service that signs in with a Django session (a cookie naming a
row in django_session) instead of tokens. Left alone it would live SESSION_COOKIE_AGE (14 days by
default) with no idle logoff, and survive revokeAllSessions. This middleware stamps the session at
login with the time and the user's session version, and ends it (logout: the row is deleted) on
the first admin request after any of:

- no admin request for JWT_REFRESH_IDLE_TIMEOUT (15 minutes): HIPAA's automatic logoff;
- the refresh absolute lifetime (12 hours) since login, however active;
- a change of the user's session_version: revokeAllSessions, changePassword and deactivation
  all bump it (users.sessions.sessions_revoke_all);
- a session without the login stamp (made before this rule existed): it cannot prove its age.

Django itself already ends the session when the password hash changes or the user is inactive
(its session auth hash and ModelBackend.get_user), and the admin site admits only active staff;
this adds the limits Django lacks. The admin's own views then redirect to the login page.

Only admin views are touched (their URL namespace, resolved before process_view): /graphql/
never reads the Django session, so the API pays no query for any of this.
"""

import logging
import time

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from audit.models import Action
from audit.services import audit_event_record
from users.sessions import absolute_lifetime, idle_timeout

logger = logging.getLogger("users.admin_sessions")

LOGIN_AT_KEY = "_admin_login_at"
SEEN_AT_KEY = "_admin_seen_at"
SESSION_VERSION_KEY = "_admin_session_version"
# Last activity is written back at most once a minute: an admin page is then one session UPDATE a
# minute instead of one per request. The idle limit is measured from that stamp, so a session can
# end up to a minute early, never late.
SEEN_AT_RESOLUTION_SECONDS = 60
SESSION_ENDED_MESSAGE = "Your admin session has ended. Please sign in again."


def _is_admin_view(request) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and "admin" in match.app_names


def _stamps_django_session(request) -> bool:
    """Whether a login on this request opens a Django session that the admin will use.

    The API's tokenAuth sends user_logged_in too (axes resets its count on it) with its own
    request; stamping that request's session would write a django_session row and set a cookie on
    every API login. A login with no resolved view is the test client's force_login.
    """
    match = getattr(request, "resolver_match", None)
    return request is not None and hasattr(request, "session") and (match is None or _is_admin_view(request))


def admin_session_end_reason(session, user, now: float) -> str | None:
    """Why this admin session must end now, or None while it may go on."""
    login_at = session.get(LOGIN_AT_KEY)
    seen_at = session.get(SEEN_AT_KEY)
    if login_at is None or seen_at is None:
        return "unstamped"
    if session.get(SESSION_VERSION_KEY) != user.session_version:
        return "revoked"
    if now - login_at >= absolute_lifetime().total_seconds():
        return "absolute"
    if now - seen_at >= idle_timeout().total_seconds():
        return "idle"
    return None


@receiver(user_logged_in, dispatch_uid="users.admin_sessions.stamp_login")
def stamp_admin_login(sender, request, user, **kwargs) -> None:
    if not _stamps_django_session(request):
        return
    now = time.time()
    request.session[LOGIN_AT_KEY] = now
    request.session[SEEN_AT_KEY] = now
    request.session[SESSION_VERSION_KEY] = user.session_version
    if _is_admin_view(request):
        # Like an API login (users.sessions.session_start). Failed admin logins are left to the
        # lockout (users.lockout), which serialises them per username and IP.
        audit_event_record(actor=user, action=Action.LOGIN_SUCCESS)


class AdminSessionMiddleware:
    """Ends an admin session that is idle, too old, or revoked; place it after AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not _is_admin_view(request) or not request.user.is_authenticated:
            return None
        session, user, now = request.session, request.user, time.time()
        reason = admin_session_end_reason(session, user, now)
        if reason is not None:
            logger.info("Admin session of user %s ended: %s", user.pk, reason)
            logout(request)
            messages.info(request, SESSION_ENDED_MESSAGE)
        elif now - session[SEEN_AT_KEY] >= SEEN_AT_RESOLUTION_SECONDS:
            session[SEEN_AT_KEY] = now
        return None
