"""Database routing for the optional read replica (DATABASE_REPLICA_URL).

Only reads of the directory of doctors (names, specialties: no PHI) go to the replica. Everything
else stays on the primary:
- PHI (records, annotations), assignments and their guardian permission rows: access is decided
  on them, and a revoked permission must be gone at once, not after the replica catches up;
- users.User: authentication reads it, and after a password change, deactivation or a session
  version bump a lagging replica would still accept the old credentials or tokens;
- refresh tokens, login-failure counters, audit, the outbox: written on most reads anyway;
- any read inside a transaction on the primary: it must see the transaction's own writes.
"""

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA_ALIAS = "replica"

# (app_label, model_name) whose reads may be a little stale.
REPLICA_READ_MODELS = frozenset({("users", "doctor")})


class ReadReplicaRouter:
    def db_for_read(self, model, **hints):
        if (model._meta.app_label, model._meta.model_name) not in REPLICA_READ_MODELS:
            return DEFAULT_DB_ALIAS
        if REPLICA_ALIAS not in settings.DATABASES or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return REPLICA_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # The replica is a copy of the primary: objects from either relate freely.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica receives the schema by replication, never by `migrate`.
        return db == DEFAULT_DB_ALIAS
