"""The Django admin: its own session follows the API's session rules, and its user edits end tokens.

DESIGN section 4: the admin's session ends after 15 idle minutes, 12 hours after login however
active, and at once on revokeAllSessions, a password change or deactivation; only staff enter.
The admin is signed into through its real login form; time-machine moves the clock.
"""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audit.models import Action, AuditEvent, Outcome
from tests import factories
from tests.auth.conftest import ME, login_ok, refresh
from users.admin_sessions import SESSION_ENDED_MESSAGE
from users.models import User
from users.services import user_create
from users.sessions import sessions_revoke_all, user_deactivate

ADMIN_INDEX = "/admin/"
LOGIN_PAGE = "/admin/login/?next=/admin/"
START = "2026-03-02 08:00Z"
REVOKE_ALL = "mutation { revokeAllSessions { revokedSessions } }"
CHANGE_PASSWORD = """
mutation ($input: ChangePasswordInput!) { changePassword(input: $input) { token } }
"""


def admin_sign_in(client: Client, username: str, password: str = factories.PASSWORD):
    """Post the admin's own login form, as a browser does."""
    return client.post("/admin/login/", {"username": username, "password": password, "next": ADMIN_INDEX})


def signed_in(client: Client) -> bool:
    """The admin index answers the page itself, or sends to the login page."""
    response = client.get(ADMIN_INDEX)
    if response.status_code == 302:
        assert response["Location"] == LOGIN_PAGE
        return False
    assert response.status_code == 200, response.status_code
    return True


def session_writes(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "django_session" in q["sql"] and
            q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]


@pytest.fixture
def staff(db) -> User:
    return factories.make_staff(username="clerk")


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def admin_browser(client, staff, clock) -> Client:
    """A staff member signed into the admin through its login form at START."""
    response = admin_sign_in(client, "clerk")
    assert response.status_code == 302 and response["Location"] == ADMIN_INDEX, response.content[:2000]
    return client


# --- who enters -----------------------------------------------------------------------------------


def test_staff_signs_in_through_the_admin_form_and_the_login_is_audited(client, staff, clock):
    # when a staff member posts the admin's login form
    response = admin_sign_in(client, "clerk")
    # then they are in, and the trail holds the login like an API login
    assert response.status_code == 302 and response["Location"] == ADMIN_INDEX
    assert signed_in(client)
    assert list(AuditEvent.objects.filter(action=Action.LOGIN_SUCCESS).values_list("actor__username", "outcome")) == [
        ("clerk", Outcome.ALLOWED)
    ]


def test_a_wrong_admin_password_is_refused(client, staff, clock):
    # when the form is posted with a wrong password
    response = admin_sign_in(client, "clerk", "not-the-password")
    # then the form answers again with an error, and nobody is in
    assert response.status_code == 200
    assert not signed_in(client)
    assert not AuditEvent.objects.filter(action=Action.LOGIN_SUCCESS).exists()


@pytest.mark.parametrize("make_user", [factories.make_patient, factories.make_doctor], ids=["patient", "doctor"])
def test_a_non_staff_user_cannot_enter_the_admin(client, db, clock, make_user):
    # given a patient or doctor with a valid password
    username = make_user().user.username
    # when they post the admin's login form with it
    response = admin_sign_in(client, username)
    # then the form refuses them and the admin stays closed
    assert response.status_code == 200
    assert b"staff account" in response.content
    assert not signed_in(client)
    assert not AuditEvent.objects.filter(action=Action.LOGIN_SUCCESS).exists()


def test_a_user_no_longer_staff_is_sent_back_to_the_login_page(admin_browser, staff):
    # given a signed-in staff member
    assert signed_in(admin_browser)
    # when they lose the staff flag
    User.objects.filter(pk=staff.pk).update(is_staff=False)
    # then the next admin request goes to the login page
    assert not signed_in(admin_browser)


# --- idle and absolute limits -------------------------------------------------------------------


def test_the_admin_session_survives_14_idle_minutes(admin_browser, clock):
    # when 14 minutes pass without an admin request
    clock.shift(timedelta(minutes=14))
    # then the session goes on
    assert signed_in(admin_browser)


def test_the_admin_session_ends_after_16_idle_minutes(admin_browser, clock):
    # when 16 minutes pass without an admin request
    clock.shift(timedelta(minutes=16))
    # then the next request is sent to the login page, which says why
    response = admin_browser.get(ADMIN_INDEX, follow=True)
    assert response.redirect_chain == [(LOGIN_PAGE, 302)]
    assert SESSION_ENDED_MESSAGE in response.content.decode()
    # and the old session is gone for good: going back within the idle limit does not revive it
    assert not signed_in(admin_browser)


def test_an_active_admin_session_ends_12_hours_after_login(admin_browser, clock):
    # given a staff member who uses the admin every 10 minutes
    for _ in range(12 * 6 - 1):
        clock.shift(timedelta(minutes=10))
        # then they stay signed in until 11 h 50
        assert signed_in(admin_browser)
    # when the 12th hour since login is reached
    clock.shift(timedelta(minutes=10))
    # then the session ends however active it was
    assert not signed_in(admin_browser)


def test_a_new_login_starts_a_new_12_hours(admin_browser, clock):
    # given a session ended by its 12 hours (kept alive every 10 minutes)
    for _ in range(12 * 6):
        clock.shift(timedelta(minutes=10))
        signed_in(admin_browser)
    assert not signed_in(admin_browser)
    # when the staff member signs in again
    admin_sign_in(admin_browser, "clerk")
    # then the new session counts from the new login
    clock.shift(timedelta(minutes=10))
    assert signed_in(admin_browser)


def test_last_activity_is_written_at_most_once_a_minute(admin_browser, clock):
    # given a signed-in staff member
    # when they load admin pages within the same minute
    with CaptureQueriesContext(connection) as within_a_minute:
        for _ in range(3):
            clock.shift(timedelta(seconds=15))
            assert signed_in(admin_browser)
    # and once more after the minute
    clock.shift(timedelta(seconds=20))
    with CaptureQueriesContext(connection) as after_a_minute:
        assert signed_in(admin_browser)
    # then only the request after the minute wrote the session
    assert session_writes(within_a_minute) == []
    assert len(session_writes(after_a_minute)) == 1


# --- ended by the API's session events ------------------------------------------------------------


def test_revoke_all_sessions_through_graphql_ends_the_admin_session_at_once(admin_browser, staff, gql):
    # given a staff member signed into the admin and into the API
    api = login_ok(gql, "clerk")
    assert signed_in(admin_browser)
    # when they log out everywhere through the API
    result = gql.execute(REVOKE_ALL, token=api["token"])
    assert result.errors == [], result.errors
    # then the admin session is over on its next request
    assert not signed_in(admin_browser)


def test_change_password_through_graphql_ends_the_admin_session(admin_browser, staff, gql):
    # given a staff member signed into the admin and into the API
    api = login_ok(gql, "clerk")
    # when they change their password through the API
    result = gql.execute(
        CHANGE_PASSWORD,
        {"input": {"oldPassword": factories.PASSWORD, "newPassword": "a-brand-new-passphrase-42"}},
        token=api["token"],
    )
    assert result.errors == [], result.errors
    # then the admin session is over, and the new password opens a new one
    assert not signed_in(admin_browser)
    admin_sign_in(admin_browser, "clerk", "a-brand-new-passphrase-42")
    assert signed_in(admin_browser)


def test_deactivation_ends_the_admin_session(admin_browser, staff):
    # given a signed-in staff member
    assert signed_in(admin_browser)
    # when their account is deactivated
    user_deactivate(user=User.objects.get(pk=staff.pk))
    # then the admin session is over, and their password no longer opens the admin
    assert not signed_in(admin_browser)
    assert admin_sign_in(admin_browser, "clerk").status_code == 200
    assert not signed_in(admin_browser)


def test_a_session_version_bump_alone_ends_the_admin_session(admin_browser, staff):
    # given a signed-in staff member (password and active flag untouched, so Django's own checks pass)
    assert signed_in(admin_browser)
    # when every session of theirs is revoked in the domain
    sessions_revoke_all(user=User.objects.get(pk=staff.pk))
    # then the admin session ends too
    assert not signed_in(admin_browser)


def test_revoking_another_users_sessions_leaves_this_admin_session_alone(admin_browser, gql):
    # given another user who logs out everywhere
    factories.make_patient(username="someone")
    api = login_ok(gql, "someone")
    assert gql.execute(REVOKE_ALL, token=api["token"]).errors == []
    # then the staff member's admin session goes on
    assert signed_in(admin_browser)


def test_an_unstamped_session_is_ended(client, staff):
    # given an admin session made before the admin followed the session rules (no login stamp)
    legacy = SessionStore()
    legacy.update({
        SESSION_KEY: str(staff.pk),
        BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
        HASH_SESSION_KEY: staff.get_session_auth_hash(),
    })
    legacy.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = legacy.session_key
    # then it cannot prove its age, and the admin sends it to the login page
    assert not signed_in(client)


# --- the API is not touched -----------------------------------------------------------------------


def test_graphql_never_reads_the_admin_session(admin_browser, staff, gql, clock, django_assert_num_queries):
    # given a browser signed into the admin (its session cookie goes along), idle past the limit
    assert admin_browser.cookies[settings.SESSION_COOKIE_NAME].value
    clock.shift(timedelta(minutes=16))
    # when it signs into the API and calls it
    api = login_ok(gql, "clerk")
    with CaptureQueriesContext(connection) as queries, django_assert_num_queries(1):
        result = gql.execute(ME, token=api["token"])
    # then the API answers with its one query (the token's user) and never touches the Django session
    assert result.data == {"me": {"username": "clerk"}}
    assert not any("django_session" in q["sql"] for q in queries.captured_queries)
    # and the admin session was not ended on the API's request: it ends on the admin's own next one
    assert Session.objects.filter(session_key=admin_browser.session.session_key).exists()
    assert not signed_in(admin_browser)


def test_an_api_login_does_not_open_a_django_session(client, staff, gql):
    # when a user signs into the API
    with CaptureQueriesContext(connection) as queries:
        login_ok(gql, "clerk")
    # then no Django session was written and no session cookie set
    assert settings.SESSION_COOKIE_NAME not in client.cookies
    assert not any("django_session" in q["sql"] for q in queries.captured_queries)


# --- admin edits end the user's API tokens ---------------------------------------------------------


@pytest.fixture
def admin_client(client, db):
    admin = user_create(username="root", email="root@clinic.example", password="root-password-2026", is_staff=True)
    User.objects.filter(pk=admin.pk).update(is_superuser=True)
    client.force_login(User.objects.get(pk=admin.pk))
    return client


def test_unticking_active_in_the_admin_ends_every_token(gql, member, admin_client):
    # given a session of the member
    session = login_ok(gql, "member")
    # when an admin unticks "active" on the user's change form
    user = User.objects.get(pk=member.pk)
    response = admin_client.post(
        f"/admin/users/user/{user.pk}/change/",
        {
            "username": user.username, "email": user.email, "first_name": user.first_name,
            "last_name": user.last_name, "is_active": "", "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00", "initial-date_joined_0": "2026-01-01", "initial-date_joined_1": "00:00:00",
        },
    )
    # then the change was saved, and the access and refresh tokens fail at once
    assert response.status_code == 302, response.content[:2000]
    assert User.objects.get(pk=member.pk).is_active is False
    assert gql.execute(ME, token=session["token"]).data is None
    assert refresh(gql, session["refreshToken"]).code == "TOKEN_REVOKED"


def test_setting_a_password_in_the_admin_ends_every_token(gql, member, admin_client):
    # given a session of the member
    session = login_ok(gql, "member")
    # when an admin sets a new password for them
    response = admin_client.post(
        f"/admin/users/user/{member.pk}/password/",
        {
            "password1": "admin-chosen-passphrase-77",
            "password2": "admin-chosen-passphrase-77",
            "usable_password": "true",
        },
    )
    # then the old tokens fail, and the new password signs in
    assert response.status_code == 302, response.content[:2000]
    assert gql.execute(ME, token=session["token"]).code == "TOKEN_REVOKED"
    assert refresh(gql, session["refreshToken"]).code == "TOKEN_REVOKED"
    assert login_ok(gql, "member", "admin-chosen-passphrase-77")["user"] == {"username": "member"}
