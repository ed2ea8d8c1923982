"""The database goes away under a running gunicorn, then comes back (DESIGN.md section 5).

/graphql/ answers JSON SERVICE_UNAVAILABLE (HTTP 503, Retry-After, the request id) whatever the
request does first with the database (authenticate a token, sign in, store an idempotency key),
never Django's HTML page; /readyz says 503; once the database is back the same process answers
again, without a restart.

Broken for real: PostgreSQL's database is renamed away after its sessions are ended (from an
admin connection, as an operator would); SQLite's file is moved away and a directory put in its
place (sqlite3 would otherwise create an empty file and answer "no such table").
"""

import re
import time
from contextlib import closing, contextmanager

import pytest

from tests.ops.sites import Site, admin_connection, fresh_site, pg_available, post

ME = "{ me { username } }"
LOGIN = "mutation ($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token } }"
ADD = "mutation ($input: AddAnnotationInput!) { addAnnotation(input: $input) { id } }"
KINDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not pg_available(), reason="needs PostgreSQL: set "
                                                        "DATABASE_URL=postgres://... (CI runs the suite there too)")),
]


@contextmanager
def database_gone(site: Site):
    """The site's database unreachable until the block ends; then back where it was."""
    if site.kind == "sqlite":
        path = site.sqlite_path
        moved = [(path.with_name(path.name + suffix), path.with_name("away-" + path.name + suffix))
                 for suffix in ("", "-wal", "-shm")]
        moved = [(here, away) for here, away in moved if here.exists()]
        for here, away in moved:
            here.rename(away)
        path.mkdir()  # what connect() finds now: not a database, and nothing it may create
        try:
            yield
        finally:
            path.rmdir()
            for here, away in moved:
                away.rename(here)
        return
    away = f"{site.pg_name}_away"
    with closing(admin_connection()) as admin:
        rename(admin, site.pg_name, away)
        try:
            yield
        finally:
            rename(admin, away, site.pg_name)


def rename(admin, old: str, new: str) -> None:
    """End every session on `old` (the server's pooled ones too), then rename it; bounded retry."""
    deadline = time.monotonic() + 30
    while True:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (old,),
        )
        try:
            admin.execute(f'ALTER DATABASE "{old}" RENAME TO "{new}"')
            return
        except Exception:  # noqa: BLE001 - "being accessed by other users": a session was still ending
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)  # polling interval of a bounded wait


def assert_unavailable(answer) -> None:
    assert answer.status == 503, answer.body
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.headers["Retry-After"] == "5"
    assert answer.headers["Cache-Control"] == "no-store"
    (error,) = answer.body["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["extensions"]["requestId"] == answer.headers["X-Request-ID"]
    assert "Traceback" not in str(answer.body) and "<html" not in str(answer.body).lower()


@pytest.mark.parametrize("kind", KINDS)
def test_graphql_answers_service_unavailable_while_the_database_is_gone_and_recovers(kind, tmp_path):
    # SQLite: a kept connection would go on using the moved file (an open file descriptor), so
    # every request opens the path afresh; PostgreSQL keeps its default pooled connections.
    overrides = {"CONN_MAX_AGE": "0"} if kind == "sqlite" else {}
    with fresh_site(kind, tmp_path, WEB_CONCURRENCY="1", **overrides) as site:
        # given a signed-in doctor and alice's record id, while all is well
        token = site.login("dr.grey")
        record = post(site.server, "{ patients(first: 1) { edges { node { healthRecord { id } } } } }", {},
                      token=token).data["patients"]["edges"][0]["node"]["healthRecord"]["id"]
        with database_gone(site):
            # when the token is authenticated, a caller signs in, a keyed mutation is sent
            authenticated = post(site.server, ME, {}, token=token, headers={"X-Request-ID": "outage-1"})
            signing_in = post(site.server, LOGIN, {"u": "alice", "p": "whatever"})
            keyed = post(site.server, ADD, {"input": {"recordId": record, "body": "During the outage."}},
                         token=token, headers={"Idempotency-Key": "outage-note"})
            ready = site.server.get("/readyz")
            # then every answer is JSON SERVICE_UNAVAILABLE with Retry-After and its request id
            for answer in (authenticated, signing_in, keyed):
                assert_unavailable(answer)
            assert authenticated.headers["X-Request-ID"] == "outage-1"
            assert ready[0] == 503
        # when the database is back, the same process answers again
        again = post(site.server, ME, {}, token=token)
        retried = post(site.server, ADD, {"input": {"recordId": record, "body": "During the outage."}},
                       token=token, headers={"Idempotency-Key": "outage-note"})
        # then
        assert again.status == 200 and again.data == {"me": {"username": "dr.grey"}}
        assert retried.status == 200 and retried.data["addAnnotation"]["id"]
        assert "Idempotent-Replayed" not in retried.headers  # the failed attempt kept nothing
        assert site.server.get("/readyz")[0] == 200
        # and the server log has the failures with their request ids, and no HTML page
        log = site.server.log()
        assert re.search(r'"request_id": "outage-1".*"status": 503', log)
        assert "Server Error (500)" not in log
