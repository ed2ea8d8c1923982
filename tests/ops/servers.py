"""Real server processes for tests: the launcher is ops/launch.py (shared with `make load` and the
fuzz script); here, what only tests need: environments on the test database, and a mail catcher."""

import os
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import psycopg
from django.db import connection

from ops.launch import (  # noqa: F401 - the tests' one import place for the launcher
    BASE_DIR,
    GUNICORN,
    RUNSERVER,
    Response,
    ServeLauncher,
    Server,
    free_port,
    launch,
    migrate_and_seed,
    postgres_database,
    run_manage,
    sqlite_url,
    stop_process_group,
)


def database_url() -> str:
    """The URL of the database the test process uses (the test database, after setup).

    On SQLite only a file can be shared with another process: the suite's in-memory test
    database cannot (give the servers a file of their own: sqlite_url).
    """
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        if connection.is_in_memory_db():
            raise RuntimeError("the SQLite test database is in memory: another process cannot open it")
        return sqlite_url(Path(s["NAME"]))
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def production_env(**overrides: str) -> dict[str, str]:
    """clinic.settings (DEBUG off) on the test database, with the suite's keys, over plain HTTP."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "DJANGO"))}
    env.pop("DEBUG", None)
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings",
        # Only when not overridden: the suite's own database may be one no other process can open.
        DATABASE_URL=overrides.get("DATABASE_URL") or database_url(),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
    )
    env.update(overrides)
    return env


def development_env(**overrides: str) -> dict[str, str]:
    """What `make run` gives runserver: DEBUG on, the development keys, the settings' defaults."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "DJANGO"))}
    env.update(DJANGO_SETTINGS_MODULE="clinic.settings", DEBUG="1")
    env.update(overrides)
    return env


class MailCatcher:
    """A real SMTP server (aiosmtpd) in this process that keeps every message it accepts."""

    def __init__(self, port: int) -> None:
        from aiosmtpd.controller import Controller

        self.port = port
        self.accepted: list[bytes] = []
        self._controller = Controller(self, hostname="127.0.0.1", port=port)

    async def handle_DATA(self, server, session, envelope) -> str:
        self.accepted.append(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"

    def __enter__(self) -> "MailCatcher":
        self._controller.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._controller.stop()


@contextmanager
def own_database(kind: str, root: Path, *, label: str) -> Iterator[str]:
    """The URL of a database for processes the test starts: an SQLite file under `root`, or a
    fresh PostgreSQL database next to DATABASE_URL's, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{(root / f'{label}.sqlite3').resolve()}"
        return
    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    name = f"clinic_{label}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with closing(psycopg.connect(f"{base}/postgres", autocommit=True)) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with closing(psycopg.connect(f"{base}/postgres", autocommit=True)) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
