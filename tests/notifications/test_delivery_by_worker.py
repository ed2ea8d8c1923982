"""Each assignment change writes its outbox rows in its own transaction; only the worker mails them.

The request never opens an SMTP connection (a hung relay must cost it nothing); on PostgreSQL
its transaction wakes listening workers with a NOTIFY that is delivered only if it commits.
"""

import psycopg
import pytest
from django.db import connection, transaction

from care.models import Notification, NotificationKind, NotificationStatus
from care.notifications import OUTBOX_CHANNEL
from tests import factories
from tests.conftest import global_id, requires_postgres
from tests.notifications.conftest import SAFETY_TIMEOUT, worker_pass

ASSIGN = "mutation ($input: AssignDoctorInput!) { assignDoctor(input: $input) { id active } }"
END = "mutation ($input: EndAssignmentInput!) { endAssignment(input: $input) { active endedAt } }"


def rows_for(*users) -> list[Notification]:
    return list(Notification.objects.filter(recipient__in=users).order_by("kind"))


@pytest.mark.django_db(transaction=True)
def test_assign_doctor_queues_both_mails_and_the_worker_sends_them(gql, smtp_up):
    # given
    staff = factories.make_staff()
    doctor = factories.make_doctor()
    patient = factories.make_patient()
    variables = {"input": {"doctorId": global_id("Doctor", doctor.pk), "patientId": global_id("Patient", patient.pk)}}
    # when
    result = gql.execute(ASSIGN, variables, user=staff)
    # then the mutation answered with both rows queued, untried, and nothing sent by the request
    assert result.errors == []
    assert result.data["assignDoctor"]["active"] is True
    queued = rows_for(doctor.user, patient.user)
    assert [(row.status, row.attempts, row.claimed_by) for row in queued] == [(NotificationStatus.PENDING, 0, "")] * 2
    assert smtp_up.messages == []
    # when the worker passes
    assert worker_pass() == "2 sent, 0 to retry, 0 failed."
    # then both mails were accepted by the SMTP server
    [to_doctor] = smtp_up.messages_to(doctor.user.email)
    [to_patient] = smtp_up.messages_to(patient.user.email)
    assert to_doctor["Subject"] == "A patient has been assigned to you"
    assert to_patient["Subject"] == f"Dr. {doctor.full_name} can now read your health record"
    # and the outbox rows say so, each with the Message-ID its mail carried
    doctor_row, patient_row = rows_for(doctor.user, patient.user)
    assert (doctor_row.kind, patient_row.kind) == (
        NotificationKind.DOCTOR_ASSIGNED,
        NotificationKind.PATIENT_DOCTOR_ASSIGNED,
    )
    for row, mail in ((doctor_row, to_doctor), (patient_row, to_patient)):
        assert (row.status, row.attempts, row.last_error, row.claimed_by) == (NotificationStatus.SENT, 1, "", "")
        assert row.sent_at is not None
        assert mail["Message-ID"] == f"<notification-{row.pk}@clinic.example>"


@pytest.mark.django_db(transaction=True)
def test_end_assignment_mails_both_sides(gql, smtp_up):
    # given an active assignment whose own mails are already out
    staff = factories.make_staff()
    doctor = factories.make_doctor()
    patient = factories.make_patient()
    assignment = factories.assign(doctor=doctor, patient=patient, by=staff)
    assert worker_pass() == "2 sent, 0 to retry, 0 failed."
    # when
    result = gql.execute(END, {"input": {"id": global_id("Assignment", assignment.pk)}}, user=staff)
    assert len(smtp_up.messages) == 2  # the request sent nothing
    assert worker_pass() == "2 sent, 0 to retry, 0 failed."
    # then
    assert result.errors == []
    assert result.data["endAssignment"]["active"] is False
    subjects = {(message["To"], message["Subject"]) for message in smtp_up.messages[2:]}
    assert subjects == {
        (doctor.user.email, "One of your patient assignments has ended"),
        (patient.user.email, f"Dr. {doctor.full_name} can no longer read your health record"),
    }
    ended = Notification.objects.filter(
        kind__in=[NotificationKind.DOCTOR_ASSIGNMENT_ENDED, NotificationKind.PATIENT_ASSIGNMENT_ENDED]
    )
    assert sorted(ended.values_list("status", flat=True)) == [NotificationStatus.SENT] * 2


@pytest.mark.django_db(transaction=True)
def test_a_worker_pass_during_the_transaction_sees_nothing_and_one_after_commit_sends_both(smtp_up):
    # given
    staff = factories.make_staff()
    doctor = factories.make_doctor()
    patient = factories.make_patient()
    # when the assignment is made inside a transaction that is still open
    with transaction.atomic():
        factories.assign(doctor=doctor, patient=patient, by=staff)
        # then the rows exist in it but nothing has gone out yet
        assert [row.status for row in rows_for(doctor.user, patient.user)] == [NotificationStatus.PENDING] * 2
        assert smtp_up.messages == []
    # and after the commit the worker sends both
    assert smtp_up.messages == []
    assert worker_pass() == "2 sent, 0 to retry, 0 failed."
    assert sorted(message["To"] for message in smtp_up.messages) == sorted([doctor.user.email, patient.user.email])
    assert [row.status for row in rows_for(doctor.user, patient.user)] == [NotificationStatus.SENT] * 2


@pytest.fixture
def listener(transactional_db):
    """A connection LISTENing on the outbox channel, as a worker's is."""
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as listening:
        listening.execute(f"LISTEN {OUTBOX_CHANNEL}")
        yield listening


def notifications_before_a_marker(listening: psycopg.Connection) -> list[str]:
    """The notifications that reached `listening` before one it sends itself now.

    PostgreSQL delivers notifications in commit order: whatever was committed before the
    marker arrives before it, so no waiting and guessing is needed to see that none came.
    """
    listening.execute("SELECT pg_notify(%s, 'marker')", [OUTBOX_CHANNEL])
    received = []
    for notify in listening.notifies(timeout=SAFETY_TIMEOUT):
        if notify.payload == "marker":
            return received
        received.append(notify.channel)
    raise AssertionError("the marker notification never arrived")


class Abort(Exception):
    pass


@requires_postgres
def test_the_transaction_that_writes_the_rows_notifies_workers_on_commit_only(listener):
    # given
    staff = factories.make_staff()
    doctor, other = factories.make_doctor(), factories.make_doctor()
    patient = factories.make_patient()
    # when an assignment's transaction is still open
    with transaction.atomic():
        factories.assign(doctor=doctor, patient=patient, by=staff)
        # then no worker has been woken (it would find nothing it may claim)
        assert notifications_before_a_marker(listener) == []
    # and its commit wakes them once, for both rows
    assert notifications_before_a_marker(listener) == [OUTBOX_CHANNEL]
    # when another assignment's transaction rolls back
    with pytest.raises(Abort), transaction.atomic():
        factories.assign(doctor=other, patient=patient, by=staff)
        raise Abort
    # then no worker is woken
    assert notifications_before_a_marker(listener) == []
