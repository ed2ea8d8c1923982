"""Monthly range partitions of the audit trail on created_at (PostgreSQL only).

`audit_partitions` creates the months ahead (run it from cron or the worker; rows of a month
without its partition land in the default partition, which must then stay); `prune_audit` drops
months older than AUDIT_RETENTION_YEARS, but only months a signed checkpoint has verified, and
moves each shard's chain origin past the events it drops, so the rest still verifies. The anchors
(the root chain) are kept whole.
"""

import datetime
import re

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Max

from audit.checkpoints import audit_checkpoint_last
from audit.models import AuditChainHead, AuditEvent

TABLE = "audit_auditevent"
DEFAULT_PARTITION = f"{TABLE}_default"
MONTH_PARTITION = re.compile(rf"^{TABLE}_y(\d{{4}})m(\d{{2}})$")


class PartitionNotVerified(Exception):
    """A partition holds events no signed checkpoint has verified yet: it is not dropped."""


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def partition_name(month: datetime.date) -> str:
    return f"{TABLE}_y{month.year:04d}m{month.month:02d}"


def is_partitioned(*, using: str = DEFAULT_DB_ALIAS) -> bool:
    connection = connections[using]
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = %s::regclass", [TABLE])
        return cursor.fetchone() is not None


def audit_partitions_list(*, using: str = DEFAULT_DB_ALIAS) -> list[datetime.date]:
    """The months that have a partition, oldest first."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [TABLE],
        )
        names = [row[0] for row in cursor.fetchall()]
    months = []
    for name in names:
        match = MONTH_PARTITION.match(name)
        if match:
            months.append(datetime.date(int(match[1]), int(match[2]), 1))
    return sorted(months)


def audit_partitions_create(*, since: datetime.date, until: datetime.date, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Create the monthly partitions from `since`'s month up to and including `until`'s; returns the new ones."""
    existing = set(audit_partitions_list(using=using))
    created = []
    month = month_start(since)
    with connections[using].cursor() as cursor:
        while month <= month_start(until):
            if month not in existing:
                # Names and bounds from dates only; no user input reaches this SQL.
                cursor.execute(
                    f'CREATE TABLE "{partition_name(month)}" PARTITION OF "{TABLE}" '  # noqa: S608
                    f"FOR VALUES FROM ('{month.isoformat()}') TO ('{next_month(month).isoformat()}')"
                )
                created.append(partition_name(month))
            month = next_month(month)
    return created


def audit_partition_prune(*, month: datetime.date, using: str = DEFAULT_DB_ALIAS) -> dict[int, tuple[int, str]]:
    """Drop one month's partition after checking a signed checkpoint covers all its events.

    Returns the new origin of each shard it moved. PartitionNotVerified when an event in it is
    newer than the last checkpoint's head of its shard (or there is no checkpoint).
    """
    name = partition_name(month)
    if month not in audit_partitions_list(using=using):
        raise ValueError(f"no partition {name}")
    checkpoint = audit_checkpoint_last(using=using)
    verified = {shard: sequence for shard, sequence, _ in (checkpoint.heads if checkpoint else [])}
    start, end = (datetime.datetime(m.year, m.month, 1, tzinfo=datetime.UTC) for m in (month, next_month(month)))
    in_month = AuditEvent.objects.using(using).filter(created_at__gte=start, created_at__lt=end)
    last_by_shard = dict(in_month.values("shard").annotate(last=Max("sequence")).values_list("shard", "last"))
    for shard, last in sorted(last_by_shard.items()):
        if last > verified.get(shard, 0):
            raise PartitionNotVerified(
                f"{name} holds events of shard {shard} up to sequence {last}, past the last checkpoint "
                f"({verified.get(shard, 0)}): run verify_audit first"
            )
    with transaction.atomic(using=using):
        origins = {}
        for shard, last in sorted(last_by_shard.items()):
            head = AuditChainHead.objects.using(using).select_for_update().get(shard=shard)
            if last > head.origin_sequence:
                last_hash = in_month.filter(shard=shard, sequence=last).values_list("hash", flat=True).get()
                AuditChainHead.objects.using(using).filter(shard=shard).update(
                    origin_sequence=last, origin_hash=last_hash
                )
                origins[shard] = (last, last_hash)
        with connections[using].cursor() as cursor:
            # Deferred foreign-key checks still pending on its rows would block the DROP.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f'DROP TABLE "{name}"')  # noqa: S608 - a name built from a date
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    return origins
