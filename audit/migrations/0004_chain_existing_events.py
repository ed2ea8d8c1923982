from django.db import migrations


def chain_existing_events(apps, schema_editor):
    """Chain the events written before the chain existed, in the order they were written."""
    from audit.chain import GENESIS_HASH, content_digest, link_hash

    AuditEvent = apps.get_model("audit", "AuditEvent")
    prev_hash = GENESIS_HASH
    rows = AuditEvent.objects.using(schema_editor.connection.alias).order_by("created_at", "id")
    for sequence, event in enumerate(rows.iterator(chunk_size=2000), start=1):
        event_hash = link_hash(prev_hash, sequence, content_digest(event))
        AuditEvent.objects.using(schema_editor.connection.alias).filter(pk=event.pk).update(
            sequence=sequence, prev_hash=prev_hash, hash=event_hash
        )
        prev_hash = event_hash


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_hash_chain_columns"),
    ]

    operations = [
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop),
    ]
