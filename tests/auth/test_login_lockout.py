"""Login lockout with django-axes, by username AND IP: 5 failures, 15 minutes, reset on success."""

import json
from datetime import timedelta

import time_machine
from asgiref.sync import async_to_sync
from axes.models import AccessAttempt
from django.test import AsyncClient
from django.utils import timezone

from audit.models import Action, AuditEvent
from tests.auth.conftest import TOKEN_AUTH, login
from tests.factories import PASSWORD

WRONG = "wrong-password"


def fail(gql, username: str, times: int, **kwargs) -> list[str | None]:
    return [login(gql, username, WRONG, **kwargs).code for _ in range(times)]


def test_the_fifth_failure_locks_the_username_from_that_ip(gql, member):
    # when five wrong passwords are tried
    codes = fail(gql, "member", 5)
    # then the first four are plain failures and the fifth locks out
    assert codes == ["UNAUTHENTICATED"] * 4 + ["RATE_LIMITED"]
    # and now even the right password is refused, without a token
    locked = login(gql, "member")
    assert (locked.code, locked.data) == ("RATE_LIMITED", None)
    assert locked.errors[0]["message"] == "Too many failed login attempts. Try again later."


def test_unknown_users_and_wrong_passwords_answer_identically(gql, member):
    # when a wrong password is tried for a real user and for a user that does not exist
    wrong_password = login(gql, "member", WRONG)
    unknown_user = login(gql, "nobody-here", WRONG)
    # then the answers are the same, message and code
    assert wrong_password.body == unknown_user.body
    assert wrong_password.errors[0]["message"] == "Invalid username or password."
    assert wrong_password.code == "UNAUTHENTICATED"
    # and unknown usernames lock out just the same, so the lockout reveals nothing either
    assert fail(gql, "nobody-here", 4) == ["UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED", "RATE_LIMITED"]
    assert fail(gql, "member", 4)[-1] == "RATE_LIMITED"
    assert login(gql, "nobody-here", WRONG).body == login(gql, "member", WRONG).body


def test_a_success_resets_the_count(gql, member):
    # given four failures
    fail(gql, "member", 4)
    # when the right password follows
    assert login(gql, "member").errors == []
    # then four more failures do not lock out yet
    assert fail(gql, "member", 4) == ["UNAUTHENTICATED"] * 4
    assert login(gql, "member").errors == []


def test_the_lockout_is_by_username_and_ip_together(gql, member, world):
    # given the member locked out from one IP
    fail(gql, "member", 5, headers={"REMOTE_ADDR": "203.0.113.5"})
    # when the member signs in from another IP, and alice from the locked-out IP
    other_ip = login(gql, "member", headers={"REMOTE_ADDR": "198.51.100.9"})
    other_user = login(gql, "alice", headers={"REMOTE_ADDR": "203.0.113.5"})
    # then both succeed: a clinic behind one NAT is not locked out by one person's typos
    assert other_ip.data["tokenAuth"]["user"] == {"username": "member"}
    assert other_user.data["tokenAuth"]["user"] == {"username": "alice"}
    assert login(gql, "member", headers={"REMOTE_ADDR": "203.0.113.5"}).code == "RATE_LIMITED"


def test_the_lockout_ends_after_15_minutes(gql, member):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        # given a lockout
        fail(gql, "member", 5)
        clock.shift(timedelta(minutes=14))
        assert login(gql, "member").code == "RATE_LIMITED"
        # when 15 minutes have passed since the last failure
        clock.shift(timedelta(minutes=15, seconds=1))
        result = login(gql, "member")
    # then the right password works again
    assert result.errors == []
    assert result.data["tokenAuth"]["user"] == {"username": "member"}


def test_the_lockout_state_is_in_the_database(gql, member):
    # when a user fails twice
    fail(gql, "member", 2)
    # then the count lives in a table every worker process reads, not in process memory
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address, attempt.failures_since_start) == ("member", "127.0.0.1", 2)


def test_a_document_with_two_token_auth_fields_is_refused_before_any_password_check(gql, member):
    # given a document that tries several passwords at once, the right one among them, via aliases
    document = f"""
    mutation {{
      a: tokenAuth(username: "member", password: "guess-1") {{ token }}
      b: tokenAuth(username: "member", password: "{PASSWORD}") {{ token }}
    }}
    """
    # when it is sent
    result = gql.execute(document)
    # then it is refused as a whole, no password was checked and nothing was counted
    assert (result.code, result.data) == ("RATE_LIMITED", None)
    assert result.errors[0]["message"] == "A document may hold at most one tokenAuth field."
    assert not AccessAttempt.objects.exists()
    assert not AuditEvent.objects.filter(action__in=[Action.LOGIN_FAILURE, Action.LOGIN_SUCCESS]).exists()


def test_one_aliased_token_auth_is_fine(gql, member):
    result = gql.execute(f'mutation {{ signIn: tokenAuth(username: "member", password: "{PASSWORD}") {{ token }} }}')
    assert result.errors == []
    assert result.data["signIn"]["token"]


def test_axes_locks_out_under_asgi_too(member):
    # given the ASGI request path (Django's AsyncClient builds ASGIRequests, as uvicorn would)
    client = AsyncClient()

    async def attempt(password: str) -> dict:
        body = json.dumps({"query": TOKEN_AUTH, "variables": {"username": "member", "password": password}})
        response = await client.post("/graphql/", body, content_type="application/json")
        return response.json()

    # when five wrong passwords are tried and then the right one
    codes = [async_to_sync(attempt)(WRONG)["errors"][0]["extensions"]["code"] for _ in range(5)]
    locked = async_to_sync(attempt)(PASSWORD)
    # then the lockout holds as under WSGI, answered as a GraphQL error
    assert codes == ["UNAUTHENTICATED"] * 4 + ["RATE_LIMITED"]
    assert locked["data"] is None
    assert locked["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


def test_asgi_login_works(member):
    client = AsyncClient()
    body = json.dumps({"query": TOKEN_AUTH, "variables": {"username": "member", "password": PASSWORD}})
    response = async_to_sync(client.post)("/graphql/", body, content_type="application/json")
    assert response.json()["data"]["tokenAuth"]["user"] == {"username": "member"}


def test_an_absurdly_long_username_fails_like_any_unknown_user(gql, member):
    # given a "username" longer than any column holds
    long_name = "x" * 10_001
    # when it is tried
    result = login(gql, long_name, WRONG)
    # then the answer is the usual one, and the attempt was still counted (under the cut name)
    assert result.body == login(gql, "nobody-here", WRONG).body
    assert AccessAttempt.objects.get(username="x" * 255).failures_since_start == 1
