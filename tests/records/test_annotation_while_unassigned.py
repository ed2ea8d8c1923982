"""A note cannot slip in while the doctor's assignment is being ended (PostgreSQL row locks).

The unassignment holds its transaction open until the note's request is seen waiting on a
lock (or has finished without waiting), then commits. The note must be refused: the doctor
was unassigned by the time it could be written.
"""

import threading
import time

import pytest
from django.db import connection, transaction

from care.services import assignment_end
from records.models import Annotation
from records.services import annotation_add
from tests import factories
from tests.conftest import access_token, global_id, requires_postgres

ADD = "mutation ($input: AddAnnotationInput!) { addAnnotation(input: $input) { id } }"
RETRACT = "mutation ($input: RetractAnnotationInput!) { retractAnnotation(input: $input) { retractedAt } }"


def poll(condition, *, timeout: float = 30) -> None:
    """Wait for a condition (not for time): fails if it never comes."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never met"
        time.sleep(0.01)


def another_backend_waits_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


def end_while(request_done: threading.Event, *, assignment, staff, ended: threading.Event, failures: list):
    try:
        with transaction.atomic():
            assignment_end(actor=staff, assignment=assignment)
            ended.set()
            poll(lambda: request_done.is_set() or another_backend_waits_on_a_lock())
    except Exception as error:  # noqa: BLE001 - reported by the main thread
        failures.append(error)
    finally:
        connection.close()


@requires_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("operation", ["addAnnotation", "retractAnnotation"])
def test_a_note_racing_the_unassignment_is_refused(gql, operation):
    # given grey is assigned to a patient and has written one note
    staff = factories.make_staff()
    grey = factories.make_doctor()
    patient = factories.make_patient()
    assignment = factories.assign(doctor=grey, patient=patient, by=staff)
    note = annotation_add(actor=grey.user, record=patient.health_record, body="First.")
    token = access_token(grey.user)
    ended, request_done, failures = threading.Event(), threading.Event(), []
    ender = threading.Thread(
        target=end_while,
        args=(request_done,),
        kwargs={"assignment": assignment, "staff": staff, "ended": ended, "failures": failures},
    )
    # when the coordinator's unassignment is written but not yet committed
    ender.start()
    poll(ended.is_set)
    # and grey writes meanwhile
    if operation == "addAnnotation":
        variables = {"input": {"recordId": global_id("HealthRecord", patient.health_record.pk), "body": "Late."}}
        result = gql.execute(ADD, variables, token=token)
    else:
        variables = {"input": {"id": global_id("Annotation", note.pk), "reason": "Late."}}
        result = gql.execute(RETRACT, variables, token=token)
    request_done.set()
    ender.join(timeout=60)
    # then
    assert failures == []
    assert result.codes == ["NOT_FOUND"]
    assert result.data is None
    assert list(Annotation.objects.values_list("body", "retracted_at")) == [("First.", None)]
