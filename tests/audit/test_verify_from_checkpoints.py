"""`verify_audit` starts from the last signed checkpoint, `--full` from the start; a forged event
is found in the recent part by default, in the old part by `--full`, and a chain rewritten from an
old forged event at once."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit.chain import content_digest, link_hash
from audit.models import Action, AuditCheckpoint, AuditEvent
from audit.services import audit_event_record
from tests.audit.test_anchor_audit import tamper


def verify(*args: str) -> str:
    out = io.StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def old_and_recent(world):
    """Six reads of alice's record, verified (a checkpoint), then four more."""

    def read(times: int) -> list[AuditEvent]:
        return [
            audit_event_record(actor=world.grey.user, action=Action.RECORD_READ, patient=world.alice, fields=["notes"])
            for _ in range(times)
        ]

    old = read(6)
    assert "from the start" in verify()
    recent = read(4)
    return old, recent


def forge_content(event: AuditEvent) -> None:
    pk = event.pk.hex if connection.vendor == "sqlite" else event.pk
    tamper("audit_auditevent", "UPDATE audit_auditevent SET fields = %s WHERE id = %s", ['["allergies"]', pk])


def test_the_default_run_checks_only_what_came_after_the_checkpoint(old_and_recent):
    old, recent = old_and_recent
    # when the trail is verified again
    output = verify()
    # then it started at the checkpoint: only the four recent events were walked
    checkpoint = AuditCheckpoint.objects.order_by("id")[0]
    assert f"Audit chain intact: {len(recent)} events in 1 of" in output
    assert f"since checkpoint {checkpoint.pk}" in output
    # and it left a newer checkpoint naming the head
    assert [recent[-1].shard, recent[-1].sequence, recent[-1].hash] in AuditCheckpoint.objects.order_by("-id")[0].heads


def test_a_forged_recent_event_is_found_by_the_default_run(old_and_recent):
    _, recent = old_and_recent
    forge_content(recent[1])
    with pytest.raises(CommandError) as failure:
        verify()
    assert f"broken at event {recent[1].id} (sequence {recent[1].sequence})" in str(failure.value)


def test_a_forged_old_event_is_found_by_a_full_run(old_and_recent):
    old, _ = old_and_recent
    forge_content(old[2])
    # the default run starts after it ...
    verify()
    # ... the full run walks it
    with pytest.raises(CommandError) as failure:
        verify("--full")
    assert f"broken at event {old[2].id} (sequence {old[2].sequence})" in str(failure.value)


def test_a_chain_rewritten_from_an_old_forged_event_is_found_by_the_default_run(old_and_recent):
    old, _ = old_and_recent
    # given an intruder forged an old event and recomputed every later hash of the shard
    chain = list(AuditEvent.objects.filter(shard=old[0].shard).order_by("sequence"))
    prev_hash = chain[0].prev_hash
    for event in chain:
        if event.pk == old[2].pk:
            event.user_agent = "innocent"
        event_hash = link_hash(prev_hash, event.sequence, content_digest(event))
        pk = event.pk.hex if connection.vendor == "sqlite" else event.pk
        tamper(
            "audit_auditevent",
            "UPDATE audit_auditevent SET user_agent = %s, prev_hash = %s, hash = %s WHERE id = %s",
            [event.user_agent, prev_hash, event_hash, pk],
        )
        prev_hash = event_hash
    tamper(
        "audit_auditchainhead", "UPDATE audit_auditchainhead SET hash = %s WHERE shard = %s", [prev_hash, old[0].shard]
    )
    # then the default run fails at the checkpoint, whose event now has another hash
    with pytest.raises(CommandError) as failure:
        verify()
    assert f"(sequence {old[-1].sequence}): checkpoint" in str(failure.value)


def test_a_forged_checkpoint_is_refused(old_and_recent):
    old, _ = old_and_recent
    # given an intruder moved the checkpoint past a forged event, without the signing key
    forge_content(old[-1])
    checkpoint = AuditCheckpoint.objects.get()
    heads = [[shard, sequence + 2 if shard == old[0].shard else sequence, h] for shard, sequence, h in checkpoint.heads]
    tamper(
        "audit_auditcheckpoint",
        "UPDATE audit_auditcheckpoint SET heads = %s WHERE id = %s",
        [json.dumps(heads), checkpoint.pk],
    )
    with pytest.raises(CommandError, match="checkpoint forged"):
        verify()
