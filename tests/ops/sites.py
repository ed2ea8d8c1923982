"""A fresh database of its own, migrated and seeded by manage.py, served by a real gunicorn.

For tests that break or race the database under a server process: SQLite (a file in the test's
temporary directory) or PostgreSQL (a database created next to the test database, dropped after).
"""

import json
import os
import sqlite3
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from django.db import connection

from ops.launch import with_database
from tests.ops.servers import (
    Response,
    Server,
    database_url,
    launch,
    migrate_and_seed,
    postgres_database,
    production_env,
    sqlite_url,
)

PASSWORD = "outage-demo-password-2026"
LOGIN = "mutation ($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token } }"


def admin_connection() -> psycopg.Connection:
    """A connection to the server's `postgres` database, as an operator's psql would be."""
    return psycopg.connect(with_database(database_url(), "postgres"), autocommit=True)


def database_rows(url: str, sql: str, *params) -> list[tuple]:
    """Read the database at `url` as it is on disk (its own connection; %s placeholders).

    UUIDs come back as the 32 hex digits SQLite stores, so one assertion reads both.
    """
    if url.startswith("sqlite:"):
        path = url.removeprefix("sqlite:///")
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return db.execute(sql.replace("%s", "?"), params).fetchall()
    with psycopg.connect(url) as db:
        return [
            tuple(value.hex if isinstance(value, uuid.UUID) else value for value in row)
            for row in db.execute(sql, params).fetchall()
        ]


@dataclass
class Site:
    kind: str  # "sqlite" or "postgresql"
    server: Server
    url: str
    sqlite_path: Path | None = None
    pg_name: str | None = None

    def login(self, username: str) -> str:
        answer = self.server.graphql(LOGIN, {"u": username, "p": PASSWORD})
        return answer.data["tokenAuth"]["token"]

    def rows(self, sql: str, *params) -> list[tuple]:
        return database_rows(self.url, sql, *params)


@contextmanager
def site_database(kind: str, tmp_path: Path) -> Iterator[tuple[str, Path | None, str | None]]:
    """An empty database of `kind` for one site: its URL, SQLite file and PostgreSQL name."""
    if kind == "sqlite":
        sqlite_path = tmp_path / "site.sqlite3"
        yield sqlite_url(sqlite_path), sqlite_path, None
        return
    pg_name = f"{connection.settings_dict['NAME']}_site_{uuid.uuid4().hex[:8]}"
    with postgres_database(database_url(), pg_name) as url:
        yield url, None, pg_name


@contextmanager
def fresh_site(kind: str, tmp_path: Path, **env_overrides: str) -> Iterator[Site]:
    """A migrated, seeded database of `kind` and one gunicorn instance on it (stopped afterwards)."""
    with site_database(kind, tmp_path) as (url, sqlite_path, pg_name):
        env = production_env(DATABASE_URL=url, STATIC_ROOT=str(tmp_path / "static"), **env_overrides)
        migrate_and_seed(env, password=PASSWORD)
        server = launch(kind, env, tmp_path / f"{kind}.log")
        try:
            yield Site(kind=kind, server=server, url=url, sqlite_path=sqlite_path, pg_name=pg_name)
        finally:
            server.stop()


def post(server: Server, query: str, variables: dict, *, token: str | None = None,
         headers: dict | None = None) -> Response:
    """Server.graphql, keeping a non-JSON body as text instead of failing on it."""
    request = urllib.request.Request(
        f"{server.base_url}/graphql/",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw, received = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        status, raw, received = error.code, error.read(), dict(error.headers)
    try:
        body = json.loads(raw)
    except ValueError:
        body = {"not_json": raw.decode(errors="replace")}
    return Response(status, body, received)


def race(calls: list[Callable[[], Response]]) -> list[Response]:
    """Every call from its own thread, released together by a barrier; all answers, in order."""
    barrier = threading.Barrier(len(calls))
    answers: list[Response | None] = [None] * len(calls)
    failures: list[BaseException] = []

    def run(index: int, call: Callable[[], Response]) -> None:
        try:
            barrier.wait(timeout=30)
            answers[index] = call()
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert all(answer is not None for answer in answers)
    return answers


def pg_available() -> bool:
    return "postgres" in os.environ.get("DATABASE_URL", "")
