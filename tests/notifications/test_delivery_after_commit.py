"""Each assignment change writes its outbox rows in its own transaction; they go out on commit."""

import pytest
from django.db import transaction

from care.models import Notification, NotificationKind, NotificationStatus
from tests import factories
from tests.conftest import global_id

ASSIGN = "mutation ($input: AssignDoctorInput!) { assignDoctor(input: $input) { id active } }"
END = "mutation ($input: EndAssignmentInput!) { endAssignment(input: $input) { active endedAt } }"


def rows_for(*users) -> list[Notification]:
    return list(Notification.objects.filter(recipient__in=users).order_by("kind"))


@pytest.mark.django_db(transaction=True)
def test_assign_doctor_mails_the_doctor_and_the_patient_right_after_commit(gql, smtp_up):
    # given
    staff = factories.make_staff()
    doctor = factories.make_doctor()
    patient = factories.make_patient()
    variables = {"input": {"doctorId": global_id("Doctor", doctor.pk), "patientId": global_id("Patient", patient.pk)}}
    # when
    result = gql.execute(ASSIGN, variables, user=staff)
    # then the mutation answered and both mails were accepted by the SMTP server
    assert result.errors == []
    assert result.data["assignDoctor"]["active"] is True
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
    assert len(smtp_up.messages) == 2
    # when
    result = gql.execute(END, {"input": {"id": global_id("Assignment", assignment.pk)}}, user=staff)
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
def test_nothing_is_sent_before_the_transaction_commits(smtp_up):
    # given
    staff = factories.make_staff()
    doctor = factories.make_doctor()
    patient = factories.make_patient()
    # when the assignment is made inside a transaction that is still open
    with transaction.atomic():
        factories.assign(doctor=doctor, patient=patient, by=staff)
        # then the rows exist but nothing has gone out yet
        assert [row.status for row in rows_for(doctor.user, patient.user)] == [NotificationStatus.PENDING] * 2
        assert smtp_up.messages == []
    # and the commit sent both
    assert sorted(message["To"] for message in smtp_up.messages) == sorted([doctor.user.email, patient.user.email])
    assert [row.status for row in rows_for(doctor.user, patient.user)] == [NotificationStatus.SENT] * 2
