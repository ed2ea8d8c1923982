import hashlib

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


def _sqlite_sha256(text: str | None) -> str | None:
    if text is None:
        return None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    # PostgreSQL has sha256(); SQLite gets it here so the chain is computed in SQL on both.
    if connection.vendor == "sqlite":
        connection.connection.create_function("audit_sha256", 1, _sqlite_sha256, deterministic=True)


def ensure_chain_heads(sender, using, **kwargs) -> None:
    """Every shard has its head row (migration 0008 seeds them). A flush empties the table with the
    events (the test database between transactional tests, `manage.py flush`) and then sends
    post_migrate: put the genesis heads back, or every append would refuse for want of a head."""
    from audit.chain import GENESIS_HASH, MAX_SHARDS
    from audit.models import AuditChainHead, AuditEvent

    if AuditEvent.objects.using(using).exists():
        return  # a trail with events keeps the heads its appends moved; never reset them
    AuditChainHead.objects.using(using).bulk_create(
        [
            AuditChainHead(shard=shard, sequence=0, hash=GENESIS_HASH, origin_sequence=0, origin_hash=GENESIS_HASH)
            for shard in range(MAX_SHARDS)
        ],
        ignore_conflicts=True,
    )


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        connection_created.connect(register_sqlite_functions, dispatch_uid="audit_sqlite_sha256")
        post_migrate.connect(ensure_chain_heads, sender=self, dispatch_uid="audit_chain_heads")
