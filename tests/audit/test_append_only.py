"""Audit events are only ever appended: the ORM refuses changes, and PostgreSQL refuses them too."""

import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import Action, AuditEvent, AuditTrailIsAppendOnly
from audit.services import audit_event_record
from tests.conftest import requires_postgres


@pytest.fixture
def event(db):
    return audit_event_record(actor=None, action=Action.LOGIN_FAILURE)


def test_the_orm_refuses_to_change_an_event(event):
    # when the event is saved again, or updated in bulk
    event.user_agent = "forged"
    with pytest.raises(AuditTrailIsAppendOnly):
        event.save()
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(user_agent="forged")
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.bulk_update([event], ["user_agent"])
    # then it is as it was written
    assert AuditEvent.objects.get(pk=event.pk).user_agent == ""


def test_the_orm_refuses_to_delete_an_event(event):
    with pytest.raises(AuditTrailIsAppendOnly):
        event.delete()
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_events_written_through_the_orm_are_chained_too(event):
    # when an event is created the ordinary way, and two more in bulk
    created = AuditEvent.objects.create(action=Action.LOGIN_SUCCESS)
    bulk = AuditEvent.objects.bulk_create([AuditEvent(action=Action.LOGIN_SUCCESS) for _ in range(2)])
    # then each one follows the one before it in the chain
    chain = [event, created, *bulk]
    assert [e.sequence for e in chain] == [event.sequence + n for n in range(4)]
    assert [e.prev_hash for e in chain[1:]] == [e.hash for e in chain[:-1]]


@requires_postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET user_agent = 'forged' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ],
)
def test_postgresql_refuses_update_and_delete(event, statement):
    # when raw SQL, around the ORM, tries to change or remove the event
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event.pk])
    # then it is still there, unchanged
    assert AuditEvent.objects.get(pk=event.pk).user_agent == ""
