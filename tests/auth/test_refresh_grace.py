"""JWT_REFRESH_REUSE_GRACE_SECONDS: within the window after a rotation, the just-rotated refresh token
answers the same new pair again (two tabs refreshing at once) instead of ending the session as
reuse; after the window, with the window off, or once the new token was itself rotated, a repeat
is reuse and ends the family (DESIGN.md section 4). Time moves with time-machine."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import override_settings

from tests.auth.conftest import ME, login_ok, refresh
from tests.conftest import requires_postgres, run_concurrently
from tests.factories import make_patient
from users.models import RefreshToken, SessionEndReason, SessionFamily

GRACE = 30
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def grace():
    with override_settings(JWT_REFRESH_REUSE_GRACE_SECONDS=GRACE):
        yield


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def refreshed(gql, token: str) -> dict:
    result = refresh(gql, token)
    assert result.errors == [], result.errors
    return result.data["refreshToken"]


def family() -> SessionFamily:
    return SessionFamily.objects.get(user__username="member")


def test_a_repeat_within_the_window_answers_the_same_new_pair(gql, member, grace, clock):
    # given a session whose refresh token one tab just rotated
    first = login_ok(gql, "member")["refreshToken"]
    rotated = refreshed(gql, first)
    # when another tab presents the same old token within the window
    clock.shift(timedelta(seconds=GRACE))
    repeat = refreshed(gql, first)
    # then it gets the same refresh token and an access token of the same session that works
    assert repeat["refreshToken"] == rotated["refreshToken"]
    assert repeat["payload"]["sid"] == rotated["payload"]["sid"]
    assert gql.execute(ME, token=repeat["token"]).data == {"me": {"username": "member"}}
    # and the session goes on: the shared new token rotates as usual, nothing was ended
    assert refreshed(gql, repeat["refreshToken"])["refreshToken"] != repeat["refreshToken"]
    assert family().revoked_at is None


def test_a_repeat_after_the_window_is_reuse_and_ends_the_session(gql, member, grace, clock):
    # given a token rotated just over the window ago
    first = login_ok(gql, "member")["refreshToken"]
    rotated = refreshed(gql, first)
    clock.shift(timedelta(seconds=GRACE, milliseconds=1))
    # when it is presented again
    repeat = refresh(gql, first)
    # then it is reuse: refused, and the new token of the family is dead too
    assert (repeat.code, repeat.data) == ("TOKEN_REVOKED", None)
    assert refresh(gql, rotated["refreshToken"]).code == "TOKEN_REVOKED"
    assert family().end_reason == SessionEndReason.REUSE


def test_with_the_window_off_a_repeat_at_once_is_reuse(gql, member, clock):
    # given the default: no grace window, and a token rotated this very instant
    first = login_ok(gql, "member")["refreshToken"]
    rotated = refreshed(gql, first)
    # when it is presented again
    repeat = refresh(gql, first)
    # then the session ends
    assert repeat.code == "TOKEN_REVOKED"
    assert refresh(gql, rotated["refreshToken"]).code == "TOKEN_REVOKED"
    assert family().end_reason == SessionEndReason.REUSE


def test_only_the_just_rotated_token_has_grace(gql, member, grace, clock):
    # given a token rotated twice within the window (its successor was rotated too)
    first = login_ok(gql, "member")["refreshToken"]
    second = refreshed(gql, first)["refreshToken"]
    third = refreshed(gql, second)["refreshToken"]
    # when the first one comes back, still within the window
    repeat = refresh(gql, first)
    # then it is reuse: the pair it would repeat is gone, so the session ends
    assert repeat.code == "TOKEN_REVOKED"
    assert refresh(gql, third).code == "TOKEN_REVOKED"
    assert family().end_reason == SessionEndReason.REUSE


def test_an_ended_session_has_no_grace(gql, member, grace, clock):
    # given a session rotated once, then logged out
    first = login_ok(gql, "member")["refreshToken"]
    rotated = refreshed(gql, first)
    gql.execute("mutation ($r: String) { revokeToken(refreshToken: $r) { revoked } }", {"r": rotated["refreshToken"]})
    # when the rotated token comes back within the window
    repeat = refresh(gql, first)
    # then it does not revive the session
    assert repeat.code == "TOKEN_REVOKED"
    assert family().end_reason == SessionEndReason.LOGOUT


def test_the_database_keeps_only_digests_of_the_new_token(gql, member, grace, clock):
    # given a rotation within a grace window (the new token can be answered again)
    first = login_ok(gql, "member")["refreshToken"]
    rotated = refreshed(gql, first)["refreshToken"]
    # when the stored tokens are read
    stored = " ".join(str(value) for row in RefreshToken.objects.values_list() for value in row)
    # then neither clear token is there
    assert first not in stored
    assert rotated not in stored


@requires_postgres
@pytest.mark.postgres
def test_racing_refreshes_within_the_window_all_get_the_same_pair(gql, transactional_db, grace):
    # given a session of a committed user, and a grace window
    make_patient(username="member")
    first = login_ok(gql, "member")["refreshToken"]
    # when 8 tabs present its refresh token at once
    results = run_concurrently(8, lambda client: refresh(client, first))
    # then every one gets the same new refresh token, of the same session, and it still works
    assert {result.code for result in results} == {None}, [result.body for result in results]
    tokens = {result.data["refreshToken"]["refreshToken"] for result in results}
    sessions = {result.data["refreshToken"]["payload"]["sid"] for result in results}
    assert len(tokens) == 1 and len(sessions) == 1
    assert family().revoked_at is None
    assert RefreshToken.objects.filter(revoked__isnull=True).count() == 1
    assert refreshed(gql, tokens.pop())["refreshToken"]
