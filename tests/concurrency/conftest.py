"""Real server processes, each on a database of its own, for the write races in this package.

A site is one server process (runserver as `make run` starts it, or gunicorn as `make serve`
does) on a database made for it: migrated and seeded with the demo accounts by `manage.py` in
subprocesses, as an operator would. SQLite sites use a file in a temporary directory; PostgreSQL
sites (only when DATABASE_URL is PostgreSQL) a database created next to the test database.
"""

import base64
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import requires_postgres
from tests.ops.servers import (
    GUNICORN,
    RUNSERVER,
    Server,
    development_env,
    launch,
    migrate_and_seed,
    production_env,
    sqlite_url,
)
from tests.ops.sites import database_rows, race, site_database  # noqa: F401 - race: the tests' import place

PASSWORD = "race-demo-password-2026"
CLIENTS = 16
LOGIN = (
    "mutation Login($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token refreshToken } }"
)
ME = "query Me { me { doctor { id } patient { id healthRecord { id } } } }"


def pk_of(global_id: str) -> str:
    """The primary key behind a Relay global ID, as the database stores a UUID (32 hex digits)."""
    _, _, pk = base64.b64decode(global_id).decode().partition(":")
    return uuid.UUID(pk).hex


@dataclass
class Account:
    token: str
    refresh_token: str
    doctor_id: str | None
    patient_id: str | None
    record_id: str | None


@dataclass
class Site:
    """A server and the database behind it, which the tests read directly to check what was kept."""

    kind: str
    database: str  # "sqlite" or "postgres"
    server: Server
    url: str
    _logins: int = field(default=0)

    def login(self, username: str) -> Account:
        answer = self.server.graphql(LOGIN, {"u": username, "p": PASSWORD})
        assert answer.codes == [], answer.body
        tokens = answer.data["tokenAuth"]
        me = self.server.graphql(ME, token=tokens["token"])
        assert me.codes == [], me.body
        doctor, patient = me.data["me"]["doctor"], me.data["me"]["patient"]
        return Account(
            token=tokens["token"],
            refresh_token=tokens["refreshToken"],
            doctor_id=doctor and doctor["id"],
            patient_id=patient and patient["id"],
            record_id=patient and patient["healthRecord"]["id"],
        )

    def rows(self, sql: str, *params) -> list[tuple]:
        return database_rows(self.url, sql, *params)


SITES = [
    pytest.param((RUNSERVER, "sqlite"), id="runserver-sqlite"),
    pytest.param((GUNICORN, "sqlite"), id="gunicorn-sqlite"),
    pytest.param(
        (GUNICORN, "postgres"),
        id="gunicorn-postgres",
        marks=[pytest.mark.postgres, requires_postgres],
    ),
]


@pytest.fixture(scope="session")
def seeded_sqlite(tmp_path_factory) -> Path:
    """An SQLite file migrated and seeded once by `manage.py`; each SQLite site gets a copy."""
    path = tmp_path_factory.mktemp("seeded") / "clinic.sqlite3"
    env = development_env(DATABASE_URL=sqlite_url(path))
    migrate_and_seed(env, password=PASSWORD)
    return path


@pytest.fixture(scope="module", params=SITES)
def site(request, tmp_path_factory) -> Iterator[Site]:
    kind, database = request.param
    root: Path = tmp_path_factory.mktemp(f"{kind}-{database}")
    with site_database("sqlite" if database == "sqlite" else "postgresql", root) as (url, sqlite_path, _):
        if sqlite_path is not None:
            # SQLite's backup API copies what is committed, in the WAL file too.
            with closing(sqlite3.connect(request.getfixturevalue("seeded_sqlite"))) as source, \
                    closing(sqlite3.connect(sqlite_path)) as copy:
                source.backup(copy)
        common = {
            "DATABASE_URL": url,
            # Nothing here reads mail; delivery is the outbox worker's, which is not started.
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            # A test module's own settings for its servers (e.g. test_refresh_grace_races).
            **getattr(request.module, "SITE_ENV", {}),
        }
        if kind == RUNSERVER:
            env = development_env(**common)
        else:
            # 4 processes x 4 threads: 16 requests in flight at once, in 4 connections' worth of processes.
            env = production_env(**common, WEB_CONCURRENCY="4", GUNICORN_THREADS="4")
        if sqlite_path is None:
            migrate_and_seed(env, password=PASSWORD)
        server = launch(f"{kind}-{database}", env, root / "server.log", kind=kind)
        try:
            yield Site(kind=kind, database=database, server=server, url=url)
        finally:
            server.stop()
