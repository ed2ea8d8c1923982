"""PostgreSQL: the events table becomes partitioned by month on created_at (audit/partitions.py).

A partitioned table's unique constraints must hold the partition key: the primary key becomes
(id, created_at) and the chain's guard (shard, sequence, created_at). A chain still cannot fork:
appends take their shard's head row lock (audit/chain.py). Existing rows are copied over; the
months from the oldest event to three months ahead get partitions, later months a default one
until `audit_partitions` creates theirs. SQLite: nothing changes.
"""

import datetime

from django.db import migrations

TABLE = "audit_auditevent"
NEW = "audit_auditevent_partitioned"
MONTHS_AHEAD = 3


def _months(first: datetime.date, last: datetime.date):
    month = first.replace(day=1)
    while month <= last:
        following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        yield month, following
        month = following


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT min(created_at)::date, now()::date FROM {TABLE}")
        oldest, today = cursor.fetchone()
    first = oldest or today
    last = today
    for _ in range(MONTHS_AHEAD):
        last = (last.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    run(f"CREATE TABLE {NEW} (LIKE {TABLE} INCLUDING DEFAULTS) PARTITION BY RANGE (created_at)")
    run(f"CREATE TABLE {TABLE}_default PARTITION OF {NEW} DEFAULT")
    for month, following in _months(first, last):
        run(
            f"CREATE TABLE {TABLE}_y{month.year:04d}m{month.month:02d} PARTITION OF {NEW} "
            f"FOR VALUES FROM ('{month.isoformat()}') TO ('{following.isoformat()}')"
        )
    run(f"INSERT INTO {NEW} SELECT * FROM {TABLE}")
    run(f"DROP TABLE {TABLE}")
    run(f"ALTER TABLE {NEW} RENAME TO {TABLE}")
    run(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id, created_at)")
    run(f"ALTER TABLE {TABLE} ADD CONSTRAINT audit_shard_sequence_uniq UNIQUE (shard, sequence, created_at)")
    run(f"CREATE INDEX audit_patient_sequence_idx ON {TABLE} (patient_id, sequence)")
    run(f"CREATE INDEX audit_actor_created_idx ON {TABLE} (actor_id, created_at)")
    run(f"CREATE INDEX audit_action_created_idx ON {TABLE} (action, created_at)")
    run(f"CREATE INDEX audit_auditevent_created_at_58e81936 ON {TABLE} (created_at)")
    run(
        f"ALTER TABLE {TABLE} ADD CONSTRAINT audit_auditevent_actor_id_270bb4b7_fk_users_user_id "
        "FOREIGN KEY (actor_id) REFERENCES users_user (id) DEFERRABLE INITIALLY DEFERRED"
    )
    run(
        f"ALTER TABLE {TABLE} ADD CONSTRAINT audit_auditevent_patient_id_82c45eaf_fk_users_patient_id "
        "FOREIGN KEY (patient_id) REFERENCES users_patient (id) DEFERRABLE INITIALLY DEFERRED"
    )
    run(
        f"CREATE TRIGGER audit_auditevent_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
    )


class Migration(migrations.Migration):
    # One transaction: a failure leaves the old table as it was.
    atomic = True

    dependencies = [
        ("audit", "0011_checkpoints"),
    ]

    operations = [
        migrations.RunPython(partition, migrations.RunPython.noop),
    ]
