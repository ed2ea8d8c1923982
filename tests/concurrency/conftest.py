"""Real server processes, each on a database of its own, for the write races in this package.

A site is one server process (runserver as `make run` starts it, or gunicorn as `make serve`
does) on a database made for it: migrated and seeded with the demo accounts by `manage.py` in
subprocesses, as an operator would. SQLite sites use a file in a temporary directory; PostgreSQL
sites (only when DATABASE_URL is PostgreSQL) a database created next to the test database.
"""

import base64
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from tests.ops.servers import (
    GUNICORN,
    RUNSERVER,
    Response,
    Server,
    development_env,
    free_port,
    production_env,
    run_manage,
    sqlite_url,
)

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
        """Read the database as it is on disk (a separate connection; %s placeholders)."""
        if self.database == "sqlite":
            path = self.url.removeprefix("sqlite:///")
            with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
                return db.execute(sql.replace("%s", "?"), params).fetchall()
        with psycopg.connect(self.url) as db:
            # UUIDs as the 32 hex digits SQLite stores, so one assertion reads both.
            return [
                tuple(value.hex if isinstance(value, uuid.UUID) else value for value in row)
                for row in db.execute(sql, params).fetchall()
            ]


def race(calls: list[Callable[[], Response]]) -> list[Response]:
    """Each call on its own thread, all released at once by a barrier; answers in call order."""
    barrier = threading.Barrier(len(calls))
    answers: list[Response | None] = [None] * len(calls)
    failures: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            answers[index] = calls[index]()
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert all(answer is not None for answer in answers)
    return answers


@contextmanager
def postgres_database(name: str) -> Iterator[str]:
    """A fresh PostgreSQL database on the server DATABASE_URL names, dropped afterwards."""
    base = os.environ["DATABASE_URL"]
    admin_url = base.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


SITES = [
    pytest.param((RUNSERVER, "sqlite"), id="runserver-sqlite"),
    pytest.param((GUNICORN, "sqlite"), id="gunicorn-sqlite"),
    pytest.param(
        (GUNICORN, "postgres"),
        id="gunicorn-postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                "postgres" not in os.environ.get("DATABASE_URL", ""),
                reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI runs the suite there too)",
            ),
        ],
    ),
]


@pytest.fixture(scope="session")
def seeded_sqlite(tmp_path_factory) -> Path:
    """An SQLite file migrated and seeded once by `manage.py`; each SQLite site gets a copy."""
    path = tmp_path_factory.mktemp("seeded") / "clinic.sqlite3"
    env = development_env(DATABASE_URL=sqlite_url(path))
    run_manage(env, "migrate", "--noinput")
    run_manage(env, "seed_demo", "--password", PASSWORD)
    return path


@pytest.fixture(scope="module", params=SITES)
def site(request, tmp_path_factory) -> Iterator[Site]:
    kind, database = request.param
    root: Path = tmp_path_factory.mktemp(f"{kind}-{database}")
    if database == "sqlite":
        # SQLite's backup API copies what is committed, in the WAL file too.
        with closing(sqlite3.connect(request.getfixturevalue("seeded_sqlite"))) as source, \
                closing(sqlite3.connect(root / "clinic.sqlite3")) as copy:
            source.backup(copy)
    with site_database(database, root, kind) as url:
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
        if database == "postgres":
            run_manage(env, "migrate", "--noinput")
            run_manage(env, "seed_demo", "--password", PASSWORD)
        server = Server(f"{kind}-{database}", free_port(set()), env, root / "server.log", kind=kind)
        try:
            server.wait_healthy()
            yield Site(kind=kind, database=database, server=server, url=url)
        finally:
            server.stop()


@contextmanager
def site_database(database: str, root: Path, kind: str) -> Iterator[str]:
    if database == "sqlite":
        yield sqlite_url(root / "clinic.sqlite3")
        return
    with postgres_database(f"clinic_race_{kind}_{os.getpid()}") as url:
        yield url
