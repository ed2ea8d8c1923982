"""Two clients racing with one TOTP code: it is accepted exactly once (SQLite and PostgreSQL).

Threads released together by a barrier, each with its own client and database connection; on
SQLite the database is a file copy (the `member` fixture of test_lockout_concurrency), so the
threads really compete for its write lock, as they compete for the advisory lock on PostgreSQL.
"""

import queue

import pytest
import time_machine

from audit.models import Action, AuditEvent
from tests.auth.mfa_flows import STEP, T0, code_at, enrol, mfa_token_for, now, verify
from tests.auth.test_lockout_concurrency import member  # noqa: F401 - the fixture, on a shared database
from tests.conftest import GraphQLClient, run_concurrently
from users.models import SessionFamily

RACERS = 2


@pytest.mark.parametrize("same_mfa_token", [False, True], ids=["two-logins", "one-login"])
def test_one_code_sent_by_parallel_clients_is_accepted_exactly_once(gql, member, same_mfa_token):  # noqa: F811
    with time_machine.travel(T0, tick=False) as clock:
        # given the member with TOTP on, and RACERS logins waiting for a code (or one login, RACERS times)
        secret, _codes = enrol(gql, member)
        clock.shift(STEP)
        sessions_before = SessionFamily.objects.filter(user=member).count()
        tokens: queue.Queue = queue.Queue()
        for token in (
            [mfa_token_for(gql, "member")] * RACERS
            if same_mfa_token
            else [mfa_token_for(gql, "member") for _ in range(RACERS)]
        ):
            tokens.put(token)
        code = code_at(secret, now())

        # when each client sends the current code at once
        def call(client: GraphQLClient):
            return verify(client, tokens.get_nowait(), code)

        results = run_concurrently(RACERS, call)

    # then exactly one login succeeds; the other is refused (a used code, or a used login)
    assert sorted(str(result.code) for result in results) == sorted(
        ["None", "TOKEN_INVALID" if same_mfa_token else "UNAUTHENTICATED"]
    )
    assert SessionFamily.objects.filter(user=member).count() == sessions_before + 1
    assert AuditEvent.objects.filter(actor=member, action=Action.LOGIN_SUCCESS).count() == 1
