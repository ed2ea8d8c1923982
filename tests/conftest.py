import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client
from strawberry import relay

from tests import factories
from users.models import Doctor, Patient, User
from users.sessions import SESSION_ID_CLAIM, session_create
from users.token_library import get_token


def access_token(user: User) -> str:
    """An access token as tokenAuth issues it: signed, with exp, aud, iss and a live session (`sid`)."""
    return get_token(user, **{SESSION_ID_CLAIM: str(session_create(user=user).family_id)})


def global_id(type_name: str, pk: Any) -> str:
    return str(relay.GlobalID(type_name, str(pk)))


@dataclass
class GraphQLResult:
    status_code: int
    body: dict

    @property
    def data(self) -> dict | None:
        return self.body.get("data")

    @property
    def errors(self) -> list[dict]:
        return self.body.get("errors") or []

    @property
    def codes(self) -> list[str]:
        return [error["extensions"]["code"] for error in self.errors]

    @property
    def code(self) -> str | None:
        return self.codes[0] if self.codes else None


class GraphQLClient:
    """Posts GraphQL documents to /graphql/ over Django's test client, as an SPA would."""

    def __init__(self, client):
        self.client = client
        # One session per user and session version, as a signed-in SPA keeps one (a user whose
        # sessions all ended gets a new one).
        self.tokens: dict[tuple[Any, int], str] = {}

    def sign_in(self, user: User) -> str:
        """`user`'s access token, starting their session on first use (call it before a pinned
        query count: starting a session is not the request's work)."""
        key = (user.pk, user.session_version)
        if key not in self.tokens:
            self.tokens[key] = access_token(user)
        return self.tokens[key]

    def execute(
        self,
        query: str,
        variables: dict | None = None,
        *,
        user: User | None = None,
        token: str | None = None,
        headers: dict | None = None,
    ) -> GraphQLResult:
        extra = dict(headers or {})
        if user is not None:
            token = self.sign_in(user)
        if token is not None:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        response = self.client.post("/graphql/", data=json.dumps(payload), content_type="application/json", **extra)
        return GraphQLResult(response.status_code, response.json())


def run_concurrently(threads: int, call: Callable[[GraphQLClient], GraphQLResult], *, repeat: int = 1):
    """`call` from `threads` threads released together, each with its own client and connection.

    Returns every result; an exception in any thread fails the test. Needs committed data
    (transactional tests) and a database that allows concurrent writers (PostgreSQL).
    """
    barrier = threading.Barrier(threads)
    results: list[GraphQLResult] = []
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            client = GraphQLClient(Client())
            barrier.wait(timeout=30)  # all threads fire at once
            for _ in range(repeat):
                results.append(call(client))
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)
        finally:
            connection.close()  # each thread had its own connection

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=60)
    assert failures == []
    assert len(results) == threads * repeat
    return results


@contextmanager
def threads_database(tmp_path) -> Iterator[None]:
    """The committed test data where every thread of run_concurrently can write.

    On SQLite the suite's test database is in memory, one shared cache: a second writer gets
    "database table is locked" at once, without waiting, whatever the code under test does. So
    inside this block the default connection opens a file copy of it, as a deployment's SQLite
    would be (every connection opened meanwhile, this thread's and the workers', uses the file,
    with the settings' SQLite options). On PostgreSQL the data is already shared.
    """
    if connection.vendor != "sqlite":
        yield
        return
    path = tmp_path / "threads.sqlite3"
    connection.ensure_connection()
    with closing(sqlite3.connect(path)) as copy:
        connection.connection.backup(copy)
        # WAL now, as a deployment's file already is after `migrate`: left to the settings'
        # init_command, the threads' first connections would race to switch the journal mode,
        # and that switch answers "database is locked" at once instead of waiting.
        copy.execute("PRAGMA journal_mode=WAL")
    in_memory, name = connections["default"], connection.settings_dict["NAME"]
    connection.settings_dict["NAME"] = str(path)
    on_file = connections.create_connection("default")
    connections["default"] = on_file
    try:
        yield
    finally:
        on_file.close()
        connections["default"] = in_memory
        in_memory.settings_dict["NAME"] = name


@pytest.fixture
def gql(client) -> GraphQLClient:
    return GraphQLClient(client)


@dataclass
class World:
    """Every column of the access table: one object per kind of caller."""

    alice: Patient  # the patient whose record is at stake ("own patient")
    bob: Patient  # another patient
    grey: Doctor  # actively assigned to alice
    house: Doctor  # never assigned to alice
    former: Doctor  # was assigned to alice, no longer
    coordinator: User  # staff with the assignment permissions
    staff_without_perms: User  # staff without them


@pytest.fixture
def world(db) -> World:
    coordinator = factories.make_staff(username="coordinator")
    alice = factories.make_patient(username="alice")
    bob = factories.make_patient(username="bob")
    grey = factories.make_doctor(username="dr.grey")
    house = factories.make_doctor(username="dr.house")
    former = factories.make_doctor(username="dr.former")
    factories.assign(doctor=grey, patient=alice, by=coordinator)
    factories.end(factories.assign(doctor=former, patient=alice, by=coordinator), by=coordinator)
    return World(
        alice=alice,
        bob=bob,
        grey=grey,
        house=house,
        former=former,
        coordinator=coordinator,
        staff_without_perms=factories.make_staff(username="clerk", permissions=()),
    )


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


requires_postgres = pytest.mark.skipif(
    "postgres" not in os.environ.get("DATABASE_URL", ""),
    reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI runs the suite there too)",
)


@contextmanager
def record_updates_refused_quoting_allergies() -> Iterator[None]:
    """PostgreSQL refuses every health-record UPDATE with the new allergies in its error message.

    A real failure whose text carries PHI, for tests that it reaches neither client nor log.
    """
    from records.models import HealthRecord

    table = HealthRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_record_update() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused: %', NEW.allergies; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER refuse_record_update BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_record_update()"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER refuse_record_update ON {table}")
            cursor.execute("DROP FUNCTION refuse_record_update()")
