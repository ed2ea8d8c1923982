"""The per-username limit across all IPs (users.lockout), and the retryAfter of both limits.

A budget of failures per username in a sliding window; once spent, each further password check
waits a delay that doubles with each further failure, bounded, never a permanent lock; IPs the
user signed in from are exempt. Unknown usernames behave exactly like known ones. The clock is
moved with time-machine.
"""

import logging
import os
from datetime import timedelta

import psycopg
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.auth.conftest import TOKEN_AUTH, login
from tests.auth.test_session_version import CHANGE_PASSWORD, NEW_PASSWORD
from tests.factories import PASSWORD
from users.lockout import LOCKOUT_LOG_MESSAGE, advisory_lock_keys, username_digest
from users.models import LoginFailure

WRONG = "wrong-password"
BUDGET = 3


@pytest.fixture(autouse=True)
def small_budget(settings):
    settings.LOGIN_USERNAME_FAILURE_BUDGET = BUDGET
    settings.LOGIN_USERNAME_WINDOW = timedelta(hours=1)
    settings.LOGIN_USERNAME_FIRST_DELAY = timedelta(seconds=10)
    settings.LOGIN_USERNAME_MAX_DELAY = timedelta(minutes=15)


def ip(n: int) -> dict:
    return {"REMOTE_ADDR": f"198.51.100.{n}"}


def answer(gql, username: str, password: str, n: int) -> tuple[str | None, int | None]:
    """(code, retryAfter) of one tokenAuth from IP number n."""
    result = login(gql, username, password, headers=ip(n))
    extensions = result.errors[0]["extensions"] if result.errors else {}
    return result.code, extensions.get("retryAfter")


def spend_budget(gql, username: str) -> list[tuple[str | None, int | None]]:
    return [answer(gql, username, WRONG, n) for n in range(1, BUDGET + 1)]


def test_the_failure_that_spends_the_budget_answers_rate_limited_and_the_wait_is_bounded(gql, member):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        # when the budget is spent from as many IPs (each far from its own lockout)
        answers = spend_budget(gql, "member")
        # then the last failure says how long to wait
        assert answers == [("UNAUTHENTICATED", None), ("UNAUTHENTICATED", None), ("RATE_LIMITED", 10)]
        # and a new IP, even with the right password, waits the rest of it; refusals do not extend it
        assert answer(gql, "member", PASSWORD, 50) == ("RATE_LIMITED", 10)
        clock.shift(timedelta(seconds=4))
        assert answer(gql, "member", PASSWORD, 51) == ("RATE_LIMITED", 6)
        assert answer(gql, "member", PASSWORD, 52) == ("RATE_LIMITED", 6)
        # when the wait is over
        clock.shift(timedelta(seconds=6))
        # then the password is checked again: the right one gets in
        assert answer(gql, "member", PASSWORD, 53) == (None, None)


def test_the_delay_doubles_with_each_further_failure_up_to_the_maximum(gql, member):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        # given a spent budget
        assert spend_budget(gql, "member")[-1] == ("RATE_LIMITED", 10)
        waits = []
        for n in range(10, 19):
            # when the guesser waits as told each time and fails again
            clock.shift(timedelta(seconds=waits[-1] if waits else 10))
            code, wait = answer(gql, "member", WRONG, n)
            assert code == "RATE_LIMITED"
            waits.append(wait)
        # then each failure doubles the wait, and it never exceeds 15 minutes
        assert waits == [20, 40, 80, 160, 320, 640, 900, 900, 900]
        # and once the failures have left the window, the budget is whole again
        clock.shift(timedelta(hours=1, seconds=1))
        assert spend_budget(gql, "member") == [
            ("UNAUTHENTICATED", None), ("UNAUTHENTICATED", None), ("RATE_LIMITED", 10)
        ]


def test_an_ip_the_user_signed_in_from_is_exempt_but_keeps_its_own_lockout(gql, member):
    with time_machine.travel(timezone.now(), tick=False):
        # given the member signed in from their clinic's IP
        assert answer(gql, "member", PASSWORD, 200) == (None, None)
        # when a stranger spends the budget from other IPs
        spend_budget(gql, "member")
        assert answer(gql, "member", PASSWORD, 60) == ("RATE_LIMITED", 10)
        # then the member still signs in from the clinic, and a typo there is a plain failure
        assert answer(gql, "member", WRONG, 200) == ("UNAUTHENTICATED", None)
        assert answer(gql, "member", PASSWORD, 200) == (None, None)
        # and the username+IP lockout still holds there
        codes = [answer(gql, "member", WRONG, 200)[0] for _ in range(5)]
        assert codes == ["UNAUTHENTICATED"] * 4 + ["RATE_LIMITED"]
        assert answer(gql, "member", PASSWORD, 200) == ("RATE_LIMITED", 900)


def test_unknown_usernames_are_limited_exactly_like_known_ones(gql, member):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for step in range(BUDGET + 3):
            if step == BUDGET + 2:
                clock.shift(timedelta(seconds=10))  # the wait is over: one more check each
            # when the same attempt is made for a real account and for a name nobody has
            costs, bodies = [], []
            for username in ("member", "nobody-here"):
                with CaptureQueriesContext(connection) as queries:
                    result = login(gql, username, WRONG, headers=ip(step))
                costs.append(len(queries))
                bodies.append(result.body)
            # then the answers (codes, messages, retryAfter) and their cost are the same
            assert bodies[0] == bodies[1], step
            assert costs[0] == costs[1], step


def test_a_refused_attempt_and_a_checked_one_cost_a_fixed_number_of_queries(
    gql, member, django_assert_num_queries
):
    # PostgreSQL: the advisory lock in a savepoint with its lock_timeout (5 statements); SQLite's
    # lock is its write transaction
    lock = 5 if connection.vendor == "postgresql" else 0
    with time_machine.travel(timezone.now(), tick=False):
        # a password check that fails: lock, purge, both limits read, hash, both failures recorded,
        # the audit event; and the request's own (the token user, savepoints)
        with django_assert_num_queries(19 + lock):
            assert answer(gql, "nobody-here", WRONG, 1) == ("UNAUTHENTICATED", None)
        spend_budget(gql, "nobody-here")
        # a refusal by the per-username limit: no hash, nothing recorded
        with django_assert_num_queries(7 + lock):
            assert answer(gql, "nobody-here", WRONG, 99)[0] == "RATE_LIMITED"


def test_the_username_ip_lockout_says_how_long_it_lasts(gql, member, settings):
    settings.LOGIN_USERNAME_FAILURE_BUDGET = 20  # so that the pair locks first
    with time_machine.travel(timezone.now(), tick=False) as clock:
        # when the fifth failure from one IP locks the pair
        answers = [answer(gql, "member", WRONG, 7) for _ in range(5)]
        # then it says 15 minutes, and later the rest of them
        assert answers[-1] == ("RATE_LIMITED", 900)
        clock.shift(timedelta(minutes=5))
        assert answer(gql, "member", PASSWORD, 7) == ("RATE_LIMITED", 600)


def test_a_limit_triggering_logs_one_warning_without_the_username(gql, member, caplog, settings):
    settings.LOGIN_USERNAME_FAILURE_BUDGET = 20  # so that the pair locks first
    with caplog.at_level(logging.WARNING, logger="users.sessions"):
        # when a username+IP locks out, and is refused again
        for _ in range(7):
            login(gql, "member", WRONG)
        settings.LOGIN_USERNAME_FAILURE_BUDGET = 6
        # and the per-username budget is spent from another IP, and refused again
        login(gql, "member", WRONG, headers=ip(1))
        login(gql, "member", WRONG, headers=ip(2))
    # then each trigger logged once, with a stable message and a short digest, not the name
    lockouts = [record for record in caplog.records if record.msg == LOCKOUT_LOG_MESSAGE]
    account = username_digest("member")[:12]
    assert [(record.levelname, record.args) for record in lockouts] == [
        ("WARNING", ("username_ip", account)),
        ("WARNING", ("username", account)),
    ]
    assert all("member" not in record.getMessage() for record in caplog.records if record.name == "users.sessions")


def test_old_password_guesses_in_change_password_count_towards_the_lockout(gql, member):
    # given a signed-in member
    token = login(gql, "member").data["tokenAuth"]["token"]
    # when five wrong old passwords are tried from this IP
    codes = [gql.execute(CHANGE_PASSWORD, {"old": WRONG, "new": NEW_PASSWORD}, token=token).code for _ in range(5)]
    # then the fifth locks the pair, and the right one is refused too, for the API's login as well
    assert codes == ["BAD_USER_INPUT"] * 4 + ["RATE_LIMITED"]
    assert gql.execute(CHANGE_PASSWORD, {"old": PASSWORD, "new": NEW_PASSWORD}, token=token).code == "RATE_LIMITED"
    assert gql.execute(TOKEN_AUTH, {"username": "member", "password": PASSWORD}).code == "RATE_LIMITED"


@pytest.mark.postgres
@pytest.mark.skipif(
    "postgres" not in os.environ.get("DATABASE_URL", ""),
    reason="needs PostgreSQL: set DATABASE_URL=postgres://... (SQLite queues on its write lock instead)",
)
def test_an_attempt_that_cannot_get_the_lock_in_time_is_rate_limited_unchecked(gql, member, settings):
    # given another session holding the member's login lock (an attempt in progress elsewhere)
    settings.LOGIN_LOCK_WAIT = timedelta(milliseconds=200)
    s = connection.settings_dict
    holder = psycopg.connect(
        host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"], dbname=s["NAME"], autocommit=False
    )
    try:
        holder.execute("SELECT pg_advisory_xact_lock(%s, %s)", advisory_lock_keys("member"))
        # when the member tries to sign in
        result = login(gql, "member", PASSWORD)
        # then the attempt is refused after the bounded wait, with nothing checked or counted
        assert (result.code, result.errors[0]["extensions"]["retryAfter"]) == ("RATE_LIMITED", 1)
        assert not LoginFailure.objects.exists()
    finally:
        holder.rollback()
        holder.close()
    # and once the lock is free the password is checked again
    assert login(gql, "member", PASSWORD).errors == []
