"""Readiness checks: may this process take traffic? Names, booleans and counts only (no PHI).

Only what answering API requests needs: the database and its schema. Nothing optional (mail,
the outbox backlog) is checked here: a mail outage would fail the probe of every instance at
once and take the whole API out of rotation for something no request depends on. The outbox
is watched through /metrics (ops.metrics) and the worker's backlog warning instead.
"""

import logging

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

logger = logging.getLogger(__name__)

# Migrations do not un-apply under a running process: once seen complete, never re-read the
# migration files (loading the graph costs far more than the rest of the probe).
_migrations_complete = False


def check_database() -> dict:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        logger.warning("readyz: database unreachable: %s", type(error).__name__)
        return {"ok": False}
    return {"ok": True}


def check_migrations() -> dict:
    global _migrations_complete
    if _migrations_complete:
        return {"ok": True, "pending": 0}
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    pending = len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    _migrations_complete = pending == 0
    return {"ok": pending == 0, "pending": pending}


def readiness() -> tuple[bool, dict]:
    checks = {"database": check_database()}
    if checks["database"]["ok"]:
        try:
            checks["migrations"] = check_migrations()
        except DatabaseError as error:  # e.g. the migration table cannot be read
            logger.warning("readyz: check failed: %s", type(error).__name__)
            checks["migrations"] = {"ok": False}
    return all(check["ok"] for check in checks.values()), checks
