"""What every SQLite connection of the app is set up with (DESIGN section 5, issue 11)."""

import json
import subprocess
import sys

from tests.ops.servers import BASE_DIR, development_env, sqlite_url

PROBE = """
import json
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    journal_mode = cursor.fetchone()[0]
    cursor.execute("PRAGMA busy_timeout")
    busy_timeout = cursor.fetchone()[0]
    cursor.execute("PRAGMA synchronous")
    synchronous = cursor.fetchone()[0]
print(json.dumps({"journal_mode": journal_mode, "busy_timeout": busy_timeout, "synchronous": synchronous,
                  "transaction_mode": connection.transaction_mode}))
"""


def probe(env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PROBE], cwd=BASE_DIR, env=env,
        capture_output=True, text=True, check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_sqlite_connections_write_immediately_wait_for_the_lock_and_use_wal(tmp_path):
    # given the app on a new SQLite file
    env = development_env(DATABASE_URL=sqlite_url(tmp_path / "clinic.sqlite3"))
    # when a process of it opens a connection
    settings = probe(env)
    # then transactions take the write lock at BEGIN, writers wait 15 s for it, the file is in WAL,
    # and commits are flushed to disk (synchronous FULL = 2)
    assert settings == {"journal_mode": "wal", "busy_timeout": 15000, "synchronous": 2, "transaction_mode": "IMMEDIATE"}


def test_the_busy_timeout_is_configurable(tmp_path):
    # given an operator's shorter timeout
    env = development_env(DATABASE_URL=sqlite_url(tmp_path / "clinic.sqlite3"), DATABASE_BUSY_TIMEOUT_MS="2500")
    # when a connection opens
    settings = probe(env)
    # then SQLite waits that long for a lock
    assert settings["busy_timeout"] == 2500
