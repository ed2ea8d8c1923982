"""Real processes around the outbox: a gunicorn instance, outbox workers, a relay that never answers.

The servers and workers share one database with the test: on PostgreSQL the suite's test
database, on SQLite a migrated file of the test's own (the suite's in-memory database cannot be
opened by another process). What the test reads back of the outbox it reads through
`OutboxRows`, which knows either.
"""

import os
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.db import connection

from care.models import Notification
from tests.ops.servers import (
    BASE_DIR,
    Server,
    database_url,
    free_port,
    launch,
    production_env,
    run_manage,
    stop_process_group,
)

PASSWORD = "clinic-demo-2026"
DEADLINE = 60  # seconds: every bounded wait here; only reached when something is broken
ASSIGN = "mutation Assign($input: AssignDoctorInput!) { assignDoctor(input: $input) { id } }"
LOGIN = "mutation Login($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token } }"
PEOPLE = (
    "query People { doctors(first: 10) { edges { node { id } } } "
    "patients(first: 10) { edges { node { id } } } }"
)


@dataclass
class OutboxRow:
    id: uuid.UUID
    status: str
    attempts: int

    @property
    def message_id(self) -> str:
        return f"<notification-{self.id}@clinic.example>"


class OutboxRows:
    """The care_notification rows of the database the processes use."""

    def __init__(self, sqlite_path: Path | None) -> None:
        self.sqlite_path = sqlite_path

    def all(self) -> list[OutboxRow]:
        if self.sqlite_path is None:
            return [OutboxRow(*row) for row in Notification.objects.values_list("id", "status", "attempts")]
        with sqlite3.connect(self.sqlite_path) as db:
            rows = db.execute(f"SELECT id, status, attempts FROM {Notification._meta.db_table}").fetchall()
        return [OutboxRow(uuid.UUID(str(row_id)), status, attempts) for row_id, status, attempts in rows]

    def wait_until(self, condition, what: str) -> list[OutboxRow]:
        deadline = time.monotonic() + DEADLINE
        while True:
            rows = self.all()
            if condition(rows):
                return rows
            assert time.monotonic() < deadline, f"not within {DEADLINE} s: {what}: {rows}"
            time.sleep(0.1)  # the polling interval of a bounded wait


def server_database(tmp_path: Path) -> tuple[str, OutboxRows]:
    """A DATABASE_URL the processes can share with the test, migrated; and how to read its outbox."""
    if connection.vendor == "postgresql":
        return database_url(), OutboxRows(None)
    path = tmp_path / "clinic.sqlite3"
    url = f"sqlite:///{path.resolve()}"
    run_manage(production_env(DATABASE_URL=url), "migrate", "--noinput")
    return url, OutboxRows(path)


def mail_env(smtp_port: int, **overrides: str) -> dict[str, str]:
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_USE_TLS": "0",
        **overrides,
    }


def start_server(name: str, env: dict[str, str], tmp_path: Path, taken: set[int]) -> Server:
    return launch(name, env, tmp_path / f"{name}.log", port=free_port(taken))


def seed_and_login(server: Server, env: dict[str, str]) -> str:
    run_manage(env, "seed_demo", "--password", PASSWORD)
    response = server.graphql(LOGIN, {"u": "coordinator", "p": PASSWORD})
    assert response.codes == [], response.body
    return response.data["tokenAuth"]["token"]


def assign_everyone(server: Server, token: str) -> list[float]:
    """Assign every demo doctor to every demo patient over HTTP; the seconds each request took."""
    people = server.graphql(PEOPLE, token=token)
    assert people.codes == [], people.body
    doctors = [edge["node"]["id"] for edge in people.data["doctors"]["edges"]]
    patients = [edge["node"]["id"] for edge in people.data["patients"]["edges"]]
    latencies = []
    for doctor in doctors:
        for patient in patients:
            started = time.perf_counter()
            response = server.graphql(ASSIGN, {"input": {"doctorId": doctor, "patientId": patient}}, token=token)
            latencies.append(time.perf_counter() - started)
            # seed_demo's dr.grey <-> alice already exists: CONFLICT there, success everywhere else
            assert response.codes in ([], ["CONFLICT"]), response.body
    return latencies


class Worker:
    """`manage.py send_notifications --loop` as its own process, like `make serve` runs it."""

    def __init__(self, name: str, env: dict[str, str], log_path: Path, *arguments: str) -> None:
        self.name, self.log_path = name, log_path
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "send_notifications", "--loop", *arguments],
                cwd=BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM (finish the mail in hand, then exit); SIGKILL if it is stuck past the deadline."""
        return stop_process_group(self.process, DEADLINE)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class HungRelay:
    """An "SMTP server" that accepts TCP connections and never says a word; counts the connections."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._listener = socket.create_server(("127.0.0.1", port))
        self._connections: list[socket.socket] = []
        self._accepted = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def accepted(self) -> int:
        with self._accepted:
            return len(self._connections)

    def wait_for_connection(self) -> bool:
        with self._accepted:
            return self._accepted.wait_for(lambda: self._connections, DEADLINE)

    def _accept(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._listener], [], [], 0.1)
            if ready:
                client, _ = self._listener.accept()  # and never answer it
                with self._accepted:
                    self._connections.append(client)
                    self._accepted.notify_all()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(DEADLINE)
        self._listener.close()
        for client in self._connections:
            client.close()
