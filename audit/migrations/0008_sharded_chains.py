from django.db import migrations, models

GENESIS_HASH = "0" * 64
MAX_SHARDS = 64  # audit.chain.MAX_SHARDS when this migration was written


def seed_chain_heads(apps, schema_editor):
    """One head row per possible shard. The single chain written so far becomes shard 0's; the
    other shards start where it ended (their first event links to its head), so one patient's
    events still sort by sequence across the split."""
    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    alias = schema_editor.connection.alias
    last = AuditEvent.objects.using(alias).order_by("-sequence").values_list("sequence", "hash").first()
    sequence, head_hash = last if last is not None else (0, GENESIS_HASH)
    AuditChainHead.objects.using(alias).bulk_create(
        [
            AuditChainHead(
                shard=shard,
                sequence=sequence,
                hash=head_hash,
                origin_sequence=0 if shard == 0 else sequence,
                origin_hash=GENESIS_HASH if shard == 0 else head_hash,
            )
            for shard in range(MAX_SHARDS)
        ]
    )


FORWARD_SQL = [
    # Appends now lock their shard's head row (audit/chain.py), not one advisory lock.
    "DROP FUNCTION IF EXISTS audit_chain_head();",
    """
    CREATE TRIGGER audit_auditanchor_append_only
    BEFORE UPDATE OR DELETE ON audit_auditanchor
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
    """,
]
BACKWARD_SQL = ["DROP TRIGGER IF EXISTS audit_auditanchor_append_only ON audit_auditanchor;"]
# SQLite reads its one chain's head from the last event (audit/chain.py); the head row, which
# the anchors read, follows each insert here.
SQLITE_FORWARD_SQL = [
    """
    CREATE TRIGGER audit_chainhead_follows AFTER INSERT ON audit_auditevent
    BEGIN
        UPDATE audit_auditchainhead SET sequence = NEW.sequence, hash = NEW.hash
         WHERE shard = NEW.shard AND sequence < NEW.sequence;
    END;
    """,
]
SQLITE_BACKWARD_SQL = ["DROP TRIGGER IF EXISTS audit_chainhead_follows;"]


def _run_on(vendor, statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != vendor:
            return
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0007_emergency_and_severity"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="shard",
            field=models.SmallIntegerField(default=0, editable=False),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="sequence",
            field=models.BigIntegerField(editable=False),
        ),
        migrations.AlterModelOptions(
            name="auditevent",
            options={"ordering": ["shard", "sequence"]},
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(fields=("shard", "sequence"), name="audit_shard_sequence_uniq"),
        ),
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("shard", models.SmallIntegerField(primary_key=True, serialize=False)),
                ("sequence", models.BigIntegerField()),
                ("hash", models.CharField(max_length=64)),
                ("origin_sequence", models.BigIntegerField(default=0)),
                ("origin_hash", models.CharField(max_length=64)),
            ],
        ),
        migrations.CreateModel(
            name="AuditAnchor",
            fields=[
                ("sequence", models.BigIntegerField(primary_key=True, serialize=False)),
                ("created_at", models.DateTimeField()),
                ("heads", models.JSONField()),
                ("prev_hash", models.CharField(max_length=64)),
                ("hash", models.CharField(max_length=64)),
            ],
            options={"ordering": ["sequence"]},
        ),
        migrations.RunPython(seed_chain_heads, migrations.RunPython.noop),
        migrations.RunPython(_run_on("postgresql", FORWARD_SQL), _run_on("postgresql", BACKWARD_SQL)),
        migrations.RunPython(_run_on("sqlite", SQLITE_FORWARD_SQL), _run_on("sqlite", SQLITE_BACKWARD_SQL)),
    ]
