"""The lockout holds across worker processes and app instances: its state is in the shared
database, and attempts for one username are serialised there (users.lockout), whichever
process answers.

Two gunicorn instances (A: one gthread worker with 4 threads, B: two sync workers) on one
database, an SQLite file or PostgreSQL, hit by parallel clients released by a barrier.
"""

import collections
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection

from tests.auth.conftest import login
from tests.conftest import requires_postgres
from tests.factories import PASSWORD, make_patient
from tests.ops.servers import Server, free_port, own_database, production_env, run_manage

REPO = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "lockout-demo-password-2026"
WRONG = "wrong-password"
BUDGET = 8
LOGIN = "mutation Login($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token } }"
on_postgres = pytest.mark.skipif(
    "postgres" not in os.environ.get("DATABASE_URL", ""),
    reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI runs the suite there too)",
)


def login_in_another_process(username: str, password: str, times: int) -> list[str]:
    database = connection.settings_dict
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    completed = subprocess.run(
        [sys.executable, "-m", "tests.auth.login_attempts", username, password, str(times)],
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


@requires_postgres
def test_failures_in_two_processes_add_up_to_a_lockout(gql, transactional_db):
    # given a user, and three failures in this process
    make_patient(username="member")
    assert [login(gql, "member", "wrong").code for _ in range(3)] == ["UNAUTHENTICATED"] * 3
    # when another process fails twice more for the same username from the same IP
    other = login_in_another_process("member", "wrong", 2)
    # then its second failure is the fifth: locked out there ...
    assert other == ["UNAUTHENTICATED", "RATE_LIMITED"]
    # ... and here, even with the right password
    assert login(gql, "member", PASSWORD).code == "RATE_LIMITED"
    # and the other process sees the lockout too
    assert login_in_another_process("member", PASSWORD, 1) == ["RATE_LIMITED"]


# --- two real app instances on one database ---------------------------------------------------



@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=[pytest.mark.postgres, on_postgres]),
    ],
)
def instances(request, tmp_path_factory):
    """Instances A and B (production settings) on one migrated database seeded with the demo accounts."""
    root = tmp_path_factory.mktemp(f"lockout-{request.param}")
    with own_database(request.param, root, label="lockout") as url:
        # One proxy hop: the tests choose each client's IP with X-Forwarded-For. A budget of 8:
        # each check is one Argon2 hash (~0.1-0.8 s on a busy 2-core machine) under the lock.
        env = production_env(DATABASE_URL=url, TRUSTED_PROXY_HOPS="1", LOGIN_USERNAME_FAILURE_BUDGET=str(BUDGET))
        run_manage(env, "migrate", "--noinput")
        run_manage(env, "seed_demo", "--password", DEMO_PASSWORD)
        a_port = free_port(set())
        b_port = free_port({a_port})
        servers = []
        try:
            a_env = {**env, "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "4"}
            servers.append(Server("A", a_port, a_env, root / "a.log"))
            servers.append(Server("B", b_port, {**env, "WEB_CONCURRENCY": "2"}, root / "b.log"))
            for server in servers:
                server.wait_healthy()
            yield servers
        finally:
            for server in servers:
                server.stop()


def attempt(server: Server, username: str, password: str, ip: str = "203.0.113.7") -> str:
    answer = server.graphql(LOGIN, {"u": username, "p": password}, headers={"X-Forwarded-For": ip})
    assert answer.status == 200, answer.body
    return answer.codes[0] if answer.codes else "OK"


def burst(instances, calls: list[tuple[str, str, str]]) -> list[str]:
    """Each (username, password, ip) on its own thread, alternately at A and B, all released at once."""
    barrier = threading.Barrier(len(calls))
    answers: list[str | None] = [None] * len(calls)
    failures: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            answers[index] = attempt(instances[index % 2], *calls[index])
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    return answers


def test_three_wrong_and_the_right_password_at_once_on_two_instances_after_four_failures(instances):
    a, b = instances
    # given four failures for carol from one IP, recorded by both instances
    assert [attempt(server, "carol", WRONG) for server in (a, b, a, b)] == ["UNAUTHENTICATED"] * 4
    # when three wrong passwords and the right one arrive at once, at both instances
    answers = burst(instances, [("carol", WRONG, "203.0.113.7")] * 3 + [("carol", DEMO_PASSWORD, "203.0.113.7")])
    wrongs, right = sorted(answers[:3]), answers[3]
    # then the outcome is a serial order's: a wrong one first is the fifth failure and locks the
    # pair, so the right password is refused, and refused on either instance afterwards ...
    if right != "OK":
        assert (right, wrongs) == ("RATE_LIMITED", ["RATE_LIMITED"] * 3)
        assert [attempt(server, "carol", DEMO_PASSWORD) for server in (a, b)] == ["RATE_LIMITED"] * 2
    # ... or the right one came first and reset the count: the wrong ones count from zero
    else:
        assert wrongs == ["UNAUTHENTICATED"] * 3
        assert [attempt(server, "carol", WRONG) for server in (a, b)] == ["UNAUTHENTICATED", "RATE_LIMITED"]


def test_ten_wrong_at_once_on_two_instances_are_counted_exactly(instances):
    a, b = instances
    # when ten wrong passwords for bob arrive from one IP at once, at both instances
    answers = burst(instances, [("bob", WRONG, "203.0.113.8")] * 10)
    # then four were plain failures, the fifth locked the pair, the other five were refused unchecked
    assert collections.Counter(answers) == {"UNAUTHENTICATED": 4, "RATE_LIMITED": 6}
    # and every later attempt from that IP is refused, on either instance, the right password too
    assert [attempt(server, "bob", DEMO_PASSWORD, "203.0.113.8") for server in (a, b)] == ["RATE_LIMITED"] * 2


def test_guesses_from_many_ips_at_once_spend_the_username_budget_exactly(instances):
    a, b = instances
    # when 16 wrong passwords for dr.house arrive at once, each from an IP of its own
    answers = burst(instances, [("dr.house", WRONG, f"198.51.100.{n + 1}") for n in range(2 * BUDGET)])
    # then exactly BUDGET were checked, the last of them spending it, and the rest refused unchecked
    assert collections.Counter(answers) == {"UNAUTHENTICATED": BUDGET - 1, "RATE_LIMITED": BUDGET + 1}
    # and a new IP now waits, on either instance, even with the right password
    answer = a.graphql(LOGIN, {"u": "dr.house", "p": DEMO_PASSWORD}, headers={"X-Forwarded-For": "192.0.2.50"})
    assert answer.codes == ["RATE_LIMITED"]
    assert 1 <= answer.body["errors"][0]["extensions"]["retryAfter"] <= 10
    assert attempt(b, "dr.house", DEMO_PASSWORD, "192.0.2.51") == "RATE_LIMITED"
