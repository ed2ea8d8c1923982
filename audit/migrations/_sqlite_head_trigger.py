"""SQLite only: the trigger that keeps shard 0's head row at the last event (audit/chain.py reads
SQLite's head from the events themselves). A migration that makes SQLite rebuild the events
table drops its triggers, so it creates this one again (Django skips modules named _*)."""

DROP = "DROP TRIGGER IF EXISTS audit_chainhead_follows;"
CREATE = """
CREATE TRIGGER audit_chainhead_follows AFTER INSERT ON audit_auditevent
BEGIN
    UPDATE audit_auditchainhead SET sequence = NEW.sequence, hash = NEW.hash
     WHERE shard = NEW.shard AND sequence < NEW.sequence;
END;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(DROP)
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(DROP)
