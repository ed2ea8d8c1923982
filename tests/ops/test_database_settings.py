"""Production database settings: persistent, health-checked connections and a statement timeout."""

import subprocess
import sys

from django.conf import settings
from django.db import connection

from tests.conftest import requires_postgres
from tests.ops.servers import BASE_DIR, production_env


def test_connections_persist_and_are_checked_before_reuse():
    # then
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] == 60
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


@requires_postgres
def test_postgres_sessions_carry_the_statement_timeout(db):
    # when
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        timeout = cursor.fetchone()[0]
    # then
    assert timeout == "15s"  # under gunicorn's 30 s worker timeout


@requires_postgres
def test_a_statement_over_the_timeout_is_cancelled(db):
    # given a process whose timeout is 100 ms
    env = production_env(DATABASE_STATEMENT_TIMEOUT_MS="100")
    # when it runs a statement of 2 s
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         "from django.db import connection; connection.cursor().execute('SELECT pg_sleep(2)')"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True,
    )
    # then PostgreSQL cancels it
    assert result.returncode != 0
    assert "canceling statement due to statement timeout" in result.stderr
