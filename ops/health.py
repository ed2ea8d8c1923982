"""Readiness checks: may this process take traffic? Names, booleans and counts only (no PHI)."""

import logging
import os

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from care.models import Notification, NotificationStatus

logger = logging.getLogger(__name__)

DEFAULT_OUTBOX_BACKLOG_MAX = 500

# Migrations do not un-apply under a running process: once seen complete, never re-read the
# migration files (loading the graph costs far more than the rest of the probe).
_migrations_complete = False


def outbox_backlog_max() -> int:
    return int(os.environ.get("READYZ_OUTBOX_BACKLOG_MAX", DEFAULT_OUTBOX_BACKLOG_MAX))


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


def check_outbox() -> dict:
    """Pending notifications already due: a growing pile means delivery is failing."""
    limit = outbox_backlog_max()
    due = Notification.objects.filter(
        status=NotificationStatus.PENDING, next_attempt_at__lte=timezone.now()
    ).count()
    return {"ok": due < limit, "due": due, "max": limit}


def readiness() -> tuple[bool, dict]:
    checks = {"database": check_database()}
    if checks["database"]["ok"]:
        try:
            checks["migrations"] = check_migrations()
            checks["outbox"] = check_outbox()
        except DatabaseError as error:  # e.g. the tables do not exist yet
            logger.warning("readyz: check failed: %s", type(error).__name__)
            checks.setdefault("migrations", {"ok": False})
            checks.setdefault("outbox", {"ok": False})
    return all(check["ok"] for check in checks.values()), checks
