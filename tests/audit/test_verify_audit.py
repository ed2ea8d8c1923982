"""`manage.py verify_audit` walks the hash chain and names the first event that does not hold."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit.models import Action, AuditEvent
from audit.services import audit_event_record


@pytest.fixture
def trail(world):
    for _ in range(3):
        audit_event_record(actor=world.grey.user, action=Action.RECORD_READ, patient=world.alice, fields=["notes"])
    return list(AuditEvent.objects.order_by("sequence"))


def tamper(sql: str, params: list) -> None:
    """Change the table behind the application's back, as an intruder with SQL access would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # the intruder must first get past the trigger
            # (checking the deferred foreign keys first: ALTER TABLE refuses with checks pending)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_auditevent_append_only")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def test_a_clean_chain_passes(trail):
    # when the chain is verified
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    # then it reports every event intact, and the head to anchor elsewhere
    assert f"Audit chain intact: {len(trail)} events" in out.getvalue()
    assert trail[-1].hash in out.getvalue()


def test_a_changed_event_is_named(trail):
    # given someone rewrote which fields a doctor read in one event
    victim = trail[-2]
    tamper("UPDATE audit_auditevent SET fields = %s WHERE sequence = %s", ['["allergies"]', victim.sequence])
    # when the chain is verified
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")
    # then the command fails naming that event
    assert f"broken at event {victim.id} (sequence {victim.sequence})" in str(failure.value)
    assert "content does not match its hash" in str(failure.value)


def test_a_deleted_event_is_noticed_at_the_next_one(trail):
    # given someone deleted an event in the middle of the chain
    victim, successor = trail[-3], trail[-2]
    tamper("DELETE FROM audit_auditevent WHERE sequence = %s", [victim.sequence])
    # when the chain is verified
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")
    # then the break is reported at the event after the gap
    assert f"broken at event {successor.id} (sequence {successor.sequence})" in str(failure.value)


def test_a_rehashed_event_still_breaks_the_link_to_the_next(trail):
    # given someone changed an event and recomputed its own hash (but not the rest of the chain)
    from audit.chain import content_digest, link_hash

    victim = trail[-2]
    victim.user_agent = "innocent"
    forged = link_hash(victim.prev_hash, victim.sequence, content_digest(victim))
    tamper(
        "UPDATE audit_auditevent SET user_agent = %s, hash = %s WHERE sequence = %s",
        ["innocent", forged, victim.sequence],
    )
    # when the chain is verified
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")
    # then the next event no longer links to it
    assert f"sequence {trail[-1].sequence})" in str(failure.value)
    assert "previous hash" in str(failure.value)
