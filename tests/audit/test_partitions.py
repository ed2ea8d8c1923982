"""PostgreSQL: the trail is partitioned by month; `audit_partitions` creates months ahead,
`prune_audit` drops months past AUDIT_RETENTION_YEARS only once a checkpoint verified them,
keeps the anchors, and what remains still verifies."""

import datetime
import io

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection

from audit.anchors import audit_anchor_append
from audit.models import Action, AuditAnchor, AuditEvent
from audit.partitions import audit_partitions_list
from audit.services import audit_event_record
from tests.conftest import requires_postgres

pytestmark = requires_postgres

LONG_AGO = datetime.datetime(2015, 3, 10, 12, 0, tzinfo=datetime.UTC)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_months_ahead_are_created_and_rows_land_in_their_month(db):
    # when the partitions of the next six months are made
    run("audit_partitions", "--ahead", "6")
    months = audit_partitions_list()
    today = datetime.date.today().replace(day=1)
    assert today in months and len([m for m in months if m > today]) >= 6
    # then an event lands in this month's partition
    event = audit_event_record(actor=None, action=Action.LOGIN_FAILURE)
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM audit_auditevent WHERE id = %s", [event.pk])
        assert cursor.fetchone()[0] == f"audit_auditevent_y{today:%Y}m{today:%m}"


@pytest.fixture
def old_month(world):
    """Reads of alice's record in March 2015 (a partition of its own), anchored, and some today."""
    run("audit_partitions", "--since", "2015-03-01", "--ahead", "0")
    with time_machine.travel(LONG_AGO, tick=False):
        old = [
            audit_event_record(actor=world.grey.user, action=Action.RECORD_READ, patient=world.alice) for _ in range(3)
        ]
    audit_anchor_append()
    recent = [audit_event_record(actor=world.grey.user, action=Action.RECORD_READ, patient=world.alice)]
    return old, recent


def test_an_unverified_month_is_not_dropped(old_month):
    # when retention runs before any verification
    with pytest.raises(CommandError, match="Refused: audit_auditevent_y2015m03 holds events"):
        run("prune_audit")
    # then the month and its events are still there
    assert datetime.date(2015, 3, 1) in audit_partitions_list()
    assert AuditEvent.objects.filter(created_at__year=2015).count() == 3


def test_a_verified_month_is_dropped_and_the_rest_still_verifies(old_month):
    old, recent = old_month
    run("verify_audit")  # a checkpoint covering March 2015
    anchors = AuditAnchor.objects.count()
    # when retention runs
    output = run("prune_audit")
    # then March 2015 is gone, the shard's chain now starts after its last event, the anchors stay
    assert "dropped 2015-03" in output
    assert datetime.date(2015, 3, 1) not in audit_partitions_list()
    assert not AuditEvent.objects.filter(pk__in=[e.pk for e in old]).exists()
    assert AuditAnchor.objects.count() == anchors
    # and the whole remaining trail verifies, from the start
    assert "Audit chain intact" in run("verify_audit", "--full")
    assert AuditEvent.objects.filter(pk=recent[0].pk).exists()
