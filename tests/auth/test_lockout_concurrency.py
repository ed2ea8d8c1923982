"""Login attempts for one username are serialised: parallel guesses count exactly, and once a limit
is reached nothing passes, however the attempts interleave (DESIGN.md section 4).

Django's test client in threads released together by a barrier, each on its own database
connection: on SQLite (a file, see `member`) and on PostgreSQL alike. Two real server processes:
test_lockout_across_processes.
"""

import collections
import queue

import pytest
from axes.models import AccessAttempt

from tests.auth.conftest import TOKEN_AUTH
from tests.conftest import GraphQLClient, run_concurrently, threads_database
from tests.factories import PASSWORD, make_patient, make_staff
from users.lockout import username_digest
from users.models import LoginFailure

WRONG = "wrong-password"


def burst(attempts: list[tuple[str, str, dict]]) -> list[tuple[str, str | None]]:
    """Each (label, password, headers) sent to tokenAuth by its own thread, all released at once.

    Returns (label, error code or None) per attempt.
    """
    pending: queue.Queue = queue.Queue()
    for attempt in attempts:
        pending.put(attempt)

    def call(client: GraphQLClient):
        label, password, headers = pending.get_nowait()
        result = client.execute(TOKEN_AUTH, {"username": "member", "password": password}, headers=headers)
        return label, result.code

    return run_concurrently(len(attempts), call)


def fail_in_sequence(gql, times: int) -> list[str | None]:
    return [gql.execute(TOKEN_AUTH, {"username": "member", "password": WRONG}).code for _ in range(times)]


def pair_failures() -> int:
    return sum(AccessAttempt.objects.filter(username="member").values_list("failures_since_start", flat=True))


@pytest.fixture
def member(transactional_db, tmp_path):
    """The member (and a staff member, "keeper"), on a database every thread can write to
    (tests.conftest.threads_database)."""
    user = make_patient(username="member").user
    make_staff(username="keeper")
    with threads_database(tmp_path):
        yield user


def test_three_wrong_and_the_right_password_at_once_after_four_failures_let_nothing_in_after_the_fifth(
    gql, member
):
    # given four failures recorded for the member from this IP
    assert fail_in_sequence(gql, 4) == ["UNAUTHENTICATED"] * 4
    # when three wrong passwords and the right one arrive at the same moment
    answers = dict(burst([("wrong-1", WRONG, {}), ("wrong-2", WRONG, {}), ("wrong-3", WRONG, {}),
                          ("right", PASSWORD, {})]))
    wrongs = sorted(answers[f"wrong-{n}"] for n in (1, 2, 3))
    # then the outcome is one of a serial order's: a wrong one first is the fifth failure, which
    # locks the pair, and everything after it, the right password included, is refused ...
    if answers["right"] is not None:
        assert answers["right"] == "RATE_LIMITED"
        assert wrongs == ["RATE_LIMITED"] * 3
        assert pair_failures() == 5
        assert gql.execute(TOKEN_AUTH, {"username": "member", "password": PASSWORD}).code == "RATE_LIMITED"
    # ... or the right one came first: it reset the count, and the three wrong ones count from zero
    else:
        assert wrongs == ["UNAUTHENTICATED"] * 3
        assert pair_failures() == 3


def test_ten_parallel_wrong_guesses_are_counted_exactly_and_lock_the_pair(gql, member):
    # when ten wrong passwords for the member arrive from one IP at the same moment
    answers = burst([(f"wrong-{n}", WRONG, {}) for n in range(10)])
    # then exactly four were plain failures, the fifth locked the pair, and the other five were
    # refused without a password check (uncounted, as axes does serially)
    assert collections.Counter(code for _label, code in answers) == {"UNAUTHENTICATED": 4, "RATE_LIMITED": 6}
    assert pair_failures() == 5
    assert LoginFailure.objects.filter(username_digest=username_digest("member")).count() == 5
    # and every later attempt is refused, the right password too
    assert gql.execute(TOKEN_AUTH, {"username": "member", "password": PASSWORD}).code == "RATE_LIMITED"


def test_four_parallel_wrong_guesses_count_four(gql, member):
    # when four wrong passwords arrive at once
    answers = burst([(f"wrong-{n}", WRONG, {}) for n in range(4)])
    # then all four were checked and counted: one more failure locks the pair
    assert [code for _label, code in answers] == ["UNAUTHENTICATED"] * 4
    assert pair_failures() == 4
    assert fail_in_sequence(gql, 1) == ["RATE_LIMITED"]


def test_parallel_guesses_from_many_ips_spend_the_username_budget_exactly(gql, member, settings):
    # given a per-username budget of 6 failures across all IPs
    settings.LOGIN_USERNAME_FAILURE_BUDGET = 6
    # when 12 wrong passwords arrive at once, each from an IP of its own
    answers = burst([(f"ip-{n}", WRONG, {"REMOTE_ADDR": f"198.51.100.{n + 1}"}) for n in range(12)])
    # then exactly six were checked (the sixth spending the budget) and six refused unchecked
    assert collections.Counter(code for _label, code in answers) == {"UNAUTHENTICATED": 5, "RATE_LIMITED": 7}
    assert LoginFailure.objects.filter(username_digest=username_digest("member")).count() == 6
    assert pair_failures() == 6


def test_the_admin_login_form_is_serialised_too(member):
    # given a staff member, "keeper"
    pending: queue.Queue = queue.Queue()
    for _ in range(10):
        pending.put(WRONG)

    def post_admin_form(client: GraphQLClient):
        response = client.client.post("/admin/login/", {"username": "keeper", "password": pending.get_nowait()})
        return response.status_code

    # when ten wrong passwords are posted to the admin login form at once
    statuses = run_concurrently(10, post_admin_form)
    # then each was answered with the form again, and exactly five were counted for the pair
    assert statuses == [200] * 10
    attempts = AccessAttempt.objects.filter(username="keeper")
    assert sum(attempts.values_list("failures_since_start", flat=True)) == 5
