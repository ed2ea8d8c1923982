"""`manage.py anchor_audit` chains the shards' heads into the root chain and logs its head;
`verify_audit` checks the root chain and that every head it names is still there."""

import io
import logging

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit.anchors import anchor_digest, audit_anchor_append
from audit.chain import content_digest, link_hash
from audit.models import Action, AuditAnchor, AuditChainHead, AuditEvent
from audit.services import audit_event_record


def tamper(table: str, sql: str, params: list) -> None:
    """Change a table behind the application's back, past its append-only trigger on PostgreSQL."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@pytest.fixture
def reads(world):
    def read(times: int = 1) -> list[AuditEvent]:
        return [
            audit_event_record(actor=world.grey.user, action=Action.RECORD_READ, patient=p, fields=["notes"])
            for p in (world.alice, world.bob)
            for _ in range(times)
        ]

    return read


def test_an_anchor_names_every_shard_head_and_links_to_the_last(reads, caplog):
    reads(2)
    # when the heads are anchored
    out = io.StringIO()
    with caplog.at_level(logging.INFO, logger="audit.anchors"):
        call_command("anchor_audit", stdout=out)
    first = AuditAnchor.objects.get()
    # then the anchor names the head of every shard with events, and the root head is logged and printed
    heads = {(h.shard, h.sequence, h.hash) for h in AuditChainHead.objects.all() if h.sequence > 0}
    assert {tuple(head) for head in first.heads if head[1] > 0} == heads
    assert (first.sequence, first.prev_hash) == (1, "0" * 64)
    assert f"audit root head #1 {first.hash}" in caplog.text
    assert first.hash in out.getvalue()
    # when nothing new happened, no anchor; after more events, the next links to it
    assert audit_anchor_append() is None
    reads()
    second = audit_anchor_append()
    assert (second.sequence, second.prev_hash) == (2, first.hash)
    assert second.hash == link_hash(first.hash, 2, anchor_digest(created_at=second.created_at, heads=second.heads))


def test_a_shard_rewritten_wholesale_is_caught_by_the_anchor(reads):
    # given reads, anchored
    events = reads(3)
    audit_anchor_append()
    call_command("verify_audit", "--no-checkpoint", stdout=io.StringIO())  # no checkpoint: the anchor must catch it
    # when an intruder forges alice's first read and recomputes every later hash of her shard (and its head row)
    shard = events[0].shard
    chain = list(AuditEvent.objects.filter(shard=shard).order_by("sequence"))
    prev_hash = chain[0].prev_hash
    for n, event in enumerate(chain):
        if n == 0:
            event.user_agent = "innocent"
        event_hash = link_hash(prev_hash, event.sequence, content_digest(event))
        tamper(
            "audit_auditevent",
            "UPDATE audit_auditevent SET user_agent = %s, prev_hash = %s, hash = %s WHERE id = %s",
            [event.user_agent, prev_hash, event_hash, event.pk.hex if connection.vendor == "sqlite" else event.pk],
        )
        prev_hash = event_hash
    tamper("audit_auditchainhead", "UPDATE audit_auditchainhead SET hash = %s WHERE shard = %s", [prev_hash, shard])
    # then the shard walks clean, but the anchor names another head: verification fails
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")
    assert f"shard {shard} with another hash" in str(failure.value)


def test_a_changed_anchor_breaks_the_root_chain(reads):
    reads()
    audit_anchor_append()
    reads()
    audit_anchor_append()
    tamper("audit_auditanchor", "UPDATE audit_auditanchor SET heads = %s WHERE sequence = 1", ["[]"])
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")
    assert "anchor 1 was changed" in str(failure.value)
