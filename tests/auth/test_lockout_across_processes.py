"""The lockout holds across worker processes: its state is in the shared PostgreSQL database."""

import json
import os
import subprocess
import sys
from pathlib import Path

from django.db import connection

from tests.auth.conftest import login
from tests.conftest import requires_postgres
from tests.factories import PASSWORD, make_patient

REPO = Path(__file__).resolve().parents[2]


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
