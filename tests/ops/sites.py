"""A fresh database of its own, migrated and seeded by manage.py, served by a real gunicorn.

For tests that break or race the database under a server process: SQLite (a file in the test's
temporary directory) or PostgreSQL (a database created next to the test database, dropped after).
"""

import json
import os
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

from tests.ops.servers import Response, Server, free_port, production_env, run_manage

PASSWORD = "outage-demo-password-2026"
LOGIN = "mutation ($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token } }"


def admin_connection() -> psycopg.Connection:
    """A connection to the server's `postgres` database, as an operator's psql would be."""
    s = connection.settings_dict
    return psycopg.connect(
        host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"], password=s["PASSWORD"] or None,
        dbname="postgres", autocommit=True,
    )


@dataclass
class Site:
    kind: str  # "sqlite" or "postgresql"
    server: Server
    sqlite_path: Path | None = None
    pg_name: str | None = None

    def login(self, username: str) -> str:
        answer = self.server.graphql(LOGIN, {"u": username, "p": PASSWORD})
        return answer.data["tokenAuth"]["token"]

    def rows(self, sql: str, *params) -> list[tuple]:
        """Read the site's database directly (SQL with %s placeholders)."""
        if self.kind == "sqlite":
            import sqlite3

            with closing(sqlite3.connect(self.sqlite_path)) as db:
                return db.execute(sql.replace("%s", "?"), params).fetchall()
        s = connection.settings_dict
        with psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"],
                             password=s["PASSWORD"] or None, dbname=self.pg_name) as db:
            return db.execute(sql, params).fetchall()


@contextmanager
def fresh_site(kind: str, tmp_path: Path, **env_overrides: str) -> Iterator[Site]:
    """A migrated, seeded database of `kind` and one gunicorn instance on it (stopped afterwards)."""
    pg_name = None
    if kind == "sqlite":
        sqlite_path = tmp_path / "site.sqlite3"
        url = f"sqlite:///{sqlite_path}"
    else:
        sqlite_path = None
        pg_name = f"{connection.settings_dict['NAME']}_site_{uuid.uuid4().hex[:8]}"
        with closing(admin_connection()) as admin:
            admin.execute(f'CREATE DATABASE "{pg_name}"')
        s = connection.settings_dict
        url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{pg_name}"
    env = production_env(DATABASE_URL=url, STATIC_ROOT=str(tmp_path / "static"), **env_overrides)
    server = None
    try:
        run_manage(env, "migrate", "--noinput")
        run_manage(env, "seed_demo", "--password", PASSWORD)
        server = Server(kind, free_port(set()), env, tmp_path / f"{kind}.log")
        server.wait_healthy()
        yield Site(kind=kind, server=server, sqlite_path=sqlite_path, pg_name=pg_name)
    finally:
        if server is not None:
            server.stop()
        if pg_name is not None:
            with closing(admin_connection()) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


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
    return answers


def pg_available() -> bool:
    return "postgres" in os.environ.get("DATABASE_URL", "")
