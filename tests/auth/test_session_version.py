"""A session-version claim: logout everywhere, a password change and deactivation end every
access token and refresh token of the user at once, at no extra query per request."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.auth.conftest import ME, login_ok, refresh
from tests.factories import PASSWORD
from users.models import User
from users.sessions import user_deactivate

CHANGE_PASSWORD = """
mutation ($old: String!, $new: String!) {
  changePassword(input: {oldPassword: $old, newPassword: $new}) { token refreshToken user { username } }
}
"""
REVOKE_ALL = "mutation { revokeAllSessions { revokedSessions } }"
NEW_PASSWORD = "a-much-better-passphrase-2026"


def test_access_token_issued_before_change_password_fails_right_after(gql, member):
    # given two sessions (this browser and another device) with live access tokens
    here = login_ok(gql, "member")
    elsewhere = login_ok(gql, "member")
    assert gql.execute(ME, token=elsewhere["token"]).data == {"me": {"username": "member"}}
    # when the password is changed from here
    result = gql.execute(CHANGE_PASSWORD, {"old": PASSWORD, "new": NEW_PASSWORD}, token=here["token"])
    assert result.errors == []
    changed = result.data["changePassword"]
    # then the old access and refresh tokens fail at once, without waiting for expiry
    for old in (here, elsewhere):
        stale = gql.execute(ME, token=old["token"])
        assert (stale.code, stale.data) == ("TOKEN_REVOKED", None)
        assert refresh(gql, old["refreshToken"]).code == "TOKEN_REVOKED"
    # and the new session of this client works, as does the new password
    assert gql.execute(ME, token=changed["token"]).data == {"me": {"username": "member"}}
    assert refresh(gql, changed["refreshToken"]).errors == []
    assert login_ok(gql, "member", NEW_PASSWORD)["user"] == {"username": "member"}


def test_change_password_applies_the_password_validators(gql, member):
    # given a signed-in user
    token = login_ok(gql, "member")["token"]
    # when the new password is too short, common and numeric
    result = gql.execute(CHANGE_PASSWORD, {"old": PASSWORD, "new": "12345678"}, token=token)
    # then the answer is BAD_USER_INPUT naming newPassword, and nothing changed
    assert result.code == "BAD_USER_INPUT"
    messages = result.errors[0]["extensions"]["fields"]["newPassword"]
    assert any("too common" in message for message in messages)
    assert any("entirely numeric" in message for message in messages)
    assert gql.execute(ME, token=token).data == {"me": {"username": "member"}}
    assert User.objects.get(pk=member.pk).check_password(PASSWORD)


def test_change_password_requires_the_current_password(gql, member):
    # given a signed-in user (or someone holding their access token)
    token = login_ok(gql, "member")["token"]
    # when the old password given is wrong
    result = gql.execute(CHANGE_PASSWORD, {"old": "not-my-password", "new": NEW_PASSWORD}, token=token)
    # then BAD_USER_INPUT on oldPassword, and the password stays
    assert result.code == "BAD_USER_INPUT"
    assert list(result.errors[0]["extensions"]["fields"]) == ["oldPassword"]
    assert "not-my-password" not in str(result.body)
    assert User.objects.get(pk=member.pk).check_password(PASSWORD)


def test_change_password_needs_a_signed_in_caller(gql, member):
    result = gql.execute(CHANGE_PASSWORD, {"old": PASSWORD, "new": NEW_PASSWORD})
    assert (result.code, result.data) == ("UNAUTHENTICATED", None)


def test_revoke_all_sessions_ends_every_token(gql, member):
    # given three sessions, one of them refreshed
    sessions = [login_ok(gql, "member") for _ in range(3)]
    rotated = refresh(gql, sessions[0]["refreshToken"]).data["refreshToken"]
    # when the user logs out everywhere
    result = gql.execute(REVOKE_ALL, token=sessions[1]["token"])
    # then three sessions ended; no access token or refresh token of theirs works any more
    assert result.data == {"revokeAllSessions": {"revokedSessions": 3}}
    for token in [rotated["token"]] + [session["token"] for session in sessions]:
        assert gql.execute(ME, token=token).code == "TOKEN_REVOKED"
    for token in [rotated["refreshToken"]] + [session["refreshToken"] for session in sessions[1:]]:
        assert refresh(gql, token).code == "TOKEN_REVOKED"


def test_revoke_all_sessions_leaves_other_users_alone(gql, member, world):
    # given sessions of two users
    mine = login_ok(gql, "member")
    theirs = login_ok(gql, "alice")
    # when one logs out everywhere
    gql.execute(REVOKE_ALL, token=mine["token"])
    # then the other's tokens still work
    assert gql.execute(ME, token=theirs["token"]).data == {"me": {"username": "alice"}}
    assert refresh(gql, theirs["refreshToken"]).errors == []


def test_deactivation_ends_every_token_at_once(gql, member):
    # given a session
    session = login_ok(gql, "member")
    # when the user is deactivated through the service
    user_deactivate(user=User.objects.get(pk=member.pk))
    # then the access token and the refresh token fail now
    assert gql.execute(ME, token=session["token"]).code in {"TOKEN_REVOKED", "TOKEN_INVALID"}
    assert gql.execute(ME, token=session["token"]).data is None
    assert refresh(gql, session["refreshToken"]).code == "TOKEN_REVOKED"


def test_the_version_check_costs_no_extra_query(gql, member, django_assert_num_queries):
    # given a valid access token
    token = login_ok(gql, "member")["token"]
    # when `me` is asked: the user row is loaded (with its profiles) and that is the only query
    with django_assert_num_queries(1):
        result = gql.execute(ME, token=token)
    # then the answer is there, and a stale version is caught by that same single query
    assert result.data == {"me": {"username": "member"}}
    User.objects.filter(pk=member.pk).update(session_version=member.session_version + 1)
    with CaptureQueriesContext(connection) as queries:
        stale = gql.execute(ME, token=token)
    assert stale.code == "TOKEN_REVOKED"
    assert len(queries) == 1


def test_saving_a_stale_user_does_not_revive_revoked_tokens(gql, member):
    # given a user object loaded before the user logged out everywhere
    session = login_ok(gql, "member")
    stale = User.objects.get(pk=member.pk)
    gql.execute(REVOKE_ALL, token=session["token"])
    # when that stale object is saved in full (an admin form, a script)
    stale.first_name = "Renamed"
    stale.save()
    # then the change is saved but the session version is not rolled back
    assert User.objects.get(pk=member.pk).first_name == "Renamed"
    assert gql.execute(ME, token=session["token"]).code == "TOKEN_REVOKED"
