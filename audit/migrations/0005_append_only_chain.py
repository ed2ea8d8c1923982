from django.db import migrations, models

from audit.chain import ADVISORY_LOCK_KEY, GENESIS_HASH

# PostgreSQL only (SQLite, for development, relies on the ORM's refusal and its single writer).
FORWARD_SQL = [
    # The head of the chain, read by every append (audit/chain.py) after an advisory lock that
    # queues appenders until the previous one commits. VOLATILE: its query takes a fresh
    # snapshot once the lock is held, so it sees the event its predecessor just committed.
    f"""
    CREATE OR REPLACE FUNCTION audit_chain_head(OUT head_sequence bigint, OUT head_hash text)
    LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock({ADVISORY_LOCK_KEY});
        SELECT e.sequence, e.hash INTO head_sequence, head_hash
          FROM audit_auditevent e ORDER BY e.sequence DESC LIMIT 1;
        IF NOT FOUND THEN
            head_sequence := 0;
            head_hash := '{GENESIS_HASH}';
        END IF;
    END;
    $$;
    """,
    """
    CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP;
    END;
    $$;
    """,
    """
    CREATE TRIGGER audit_auditevent_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
    """,
]
BACKWARD_SQL = [
    "DROP TRIGGER IF EXISTS audit_auditevent_append_only ON audit_auditevent;",
    "DROP FUNCTION IF EXISTS audit_refuse_change();",
    "DROP FUNCTION IF EXISTS audit_chain_head();",
]


def _run_on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement, params=None)  # no placeholders: RAISE uses %

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_chain_existing_events"),
        ("users", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="sequence",
            field=models.BigIntegerField(editable=False, unique=True),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["patient", "sequence"], name="audit_patient_sequence_idx"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["actor", "sequence"], name="audit_actor_sequence_idx"),
        ),
        migrations.RunPython(_run_on_postgresql(FORWARD_SQL), _run_on_postgresql(BACKWARD_SQL)),
    ]
