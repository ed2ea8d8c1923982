import hashlib

from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _sqlite_sha256(text: str | None) -> str | None:
    if text is None:
        return None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    # PostgreSQL has sha256(); SQLite gets it here so the chain is computed in SQL on both.
    if connection.vendor == "sqlite":
        connection.connection.create_function("audit_sha256", 1, _sqlite_sha256, deterministic=True)


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        connection_created.connect(register_sqlite_functions, dispatch_uid="audit_sqlite_sha256")
