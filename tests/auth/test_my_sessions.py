"""mySessions lists the caller's live sessions; revokeSession ends one of them."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from tests import factories
from tests.auth.conftest import ME, login_ok, refresh
from tests.conftest import global_id

MY_SESSIONS = """
{ mySessions(first: 10) { totalCount edges { node { id createdAt lastUsedAt expiresAt userAgent ip current } } } }
"""
REVOKE_SESSION = "mutation ($id: ID!) { revokeSession(input: {id: $id}) { session { id current } } }"


def test_my_sessions_lists_live_sessions_with_their_origin(gql, member, world):
    # given two sessions of the member from two devices, one ended one, and alice's session
    with time_machine.travel(timezone.now(), tick=False) as clock:
        phone = login_ok(gql, "member", headers={"HTTP_USER_AGENT": "Phone/1.0", "REMOTE_ADDR": "10.0.0.7"})
        clock.shift(timedelta(minutes=1))
        laptop = login_ok(gql, "member", headers={"HTTP_USER_AGENT": "Laptop/2.0", "REMOTE_ADDR": "10.0.0.8"})
        ended = login_ok(gql, "member")
        gql.execute("mutation ($t: String) { revokeToken(refreshToken: $t) { revoked } }", {"t": ended["refreshToken"]})
        login_ok(gql, "alice")
        # when the member lists their sessions from the laptop
        result = gql.execute(MY_SESSIONS, token=laptop["token"], headers={"HTTP_USER_AGENT": "Laptop/2.0"})
        now = timezone.now()
    # then the two live ones come back, most recently used first, with where they came from
    assert result.errors == []
    nodes = [edge["node"] for edge in result.data["mySessions"]["edges"]]
    assert result.data["mySessions"]["totalCount"] == 2
    assert [(n["userAgent"], n["ip"], n["current"]) for n in nodes] == [
        ("Laptop/2.0", "10.0.0.8", True),
        ("Phone/1.0", "10.0.0.7", False),
    ]
    assert nodes[0]["id"] == global_id("Session", laptop["payload"]["sid"])
    assert nodes[1]["id"] == global_id("Session", phone["payload"]["sid"])
    assert nodes[0]["expiresAt"] == (now + timedelta(minutes=15)).isoformat()


def test_expired_sessions_are_not_listed(gql, member):
    # given a session left idle past the limit, and a fresh one
    with time_machine.travel(timezone.now(), tick=False) as clock:
        login_ok(gql, "member")
        clock.shift(timedelta(minutes=16))
        fresh = login_ok(gql, "member")
        # when the sessions are listed
        result = gql.execute(MY_SESSIONS, token=fresh["token"])
    # then only the fresh one is
    assert [edge["node"]["current"] for edge in result.data["mySessions"]["edges"]] == [True]


def test_my_sessions_needs_a_signed_in_caller(gql, member):
    result = gql.execute(MY_SESSIONS)
    assert (result.code, result.data) == ("UNAUTHENTICATED", None)


def test_revoke_session_ends_that_session_only(gql, member):
    # given two sessions
    phone = login_ok(gql, "member")
    laptop = login_ok(gql, "member")
    # when the laptop ends the phone's session
    phone_id = global_id("Session", phone["payload"]["sid"])
    result = gql.execute(REVOKE_SESSION, {"id": phone_id}, token=laptop["token"])
    # then the phone can no longer refresh, the laptop can, and the list shows the laptop only
    assert result.data == {"revokeSession": {"session": {"id": phone_id, "current": False}}}
    assert refresh(gql, phone["refreshToken"]).code == "TOKEN_REVOKED"
    assert refresh(gql, laptop["refreshToken"]).errors == []
    listed = gql.execute(MY_SESSIONS, token=laptop["token"]).data["mySessions"]["edges"]
    assert [edge["node"]["id"] for edge in listed] == [global_id("Session", laptop["payload"]["sid"])]


def test_someone_elses_session_looks_missing(gql, member, world):
    # given alice's session
    alice = login_ok(gql, "alice")
    mine = login_ok(gql, "member")
    # when the member tries to end it
    result = gql.execute(REVOKE_SESSION, {"id": global_id("Session", alice["payload"]["sid"])}, token=mine["token"])
    # then NOT_FOUND, and alice's session lives on
    assert (result.code, result.data) == ("NOT_FOUND", None)
    assert gql.execute(ME, token=alice["token"]).data == {"me": {"username": "alice"}}
    assert refresh(gql, alice["refreshToken"]).errors == []


def test_revoke_session_rejects_a_malformed_id(gql, member):
    mine = login_ok(gql, "member")
    result = gql.execute(REVOKE_SESSION, {"id": global_id("Patient", mine["payload"]["sid"])}, token=mine["token"])
    assert result.code == "BAD_USER_INPUT"
    assert list(result.errors[0]["extensions"]["fields"]) == ["id"]


def test_my_sessions_costs_two_queries_however_many_sessions(gql, member, django_assert_num_queries):
    # given five live sessions
    sessions = [login_ok(gql, "member") for _ in range(5)]
    # when they are listed: 1 the token's user, 1 the sessions with their total count
    with django_assert_num_queries(2):
        result = gql.execute(MY_SESSIONS, token=sessions[-1]["token"])
    # then all five are there, the current one marked
    nodes = [edge["node"] for edge in result.data["mySessions"]["edges"]]
    assert result.data["mySessions"]["totalCount"] == 5
    assert [node["current"] for node in nodes].count(True) == 1


def test_node_fetches_ones_own_session_and_hides_anyone_elses(gql, member):
    # given two users' sessions
    mine = login_ok(gql, "member")
    factories.make_patient(username="other")
    theirs = login_ok(gql, "other")
    query = "query ($id: ID!) { node(id: $id) { id ... on Session { current } } }"
    # when each is asked for through node by the member
    own = gql.execute(query, {"id": global_id("Session", mine["payload"]["sid"])}, token=mine["token"])
    other = gql.execute(query, {"id": global_id("Session", theirs["payload"]["sid"])}, token=mine["token"])
    # then the member's own comes back, and the other user's answers like a missing one
    assert own.data == {"node": {"id": global_id("Session", mine["payload"]["sid"]), "current": True}}
    assert other.code == "NOT_FOUND"
    assert other.data == {"node": None}
