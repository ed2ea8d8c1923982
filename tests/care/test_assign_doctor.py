"""assignDoctor: grants the doctor access to the record in the same transaction, emails them after commit."""

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction

from care.models import Assignment, Notification
from care.services import assignment_create
from records.models import HealthRecord, HealthRecordUserObjectPermission
from tests.conftest import global_id
from users.models import Patient, User

ASSIGN = """
mutation ($input: AssignDoctorInput!) {
  assignDoctor(input: $input) {
    id active createdAt endedAt doctor { fullName } patient { fullName } assignedBy { username }
  }
}
"""
READ_RECORD = "query ($id: ID!) { node(id: $id) { ... on HealthRecord { allergies } } }"


def assign_variables(doctor, patient):
    return {"input": {"doctorId": global_id("Doctor", doctor.pk), "patientId": global_id("Patient", patient.pk)}}


def grants(doctor, patient):
    rows = HealthRecordUserObjectPermission.objects.filter(user=doctor.user, content_object__patient=patient)
    return sorted(rows.values_list("permission__codename", flat=True))


def test_assign_doctor_returns_the_assignment_and_the_doctor_can_read_at_once(gql, world):
    # given house cannot read alice's record
    HealthRecord.objects.filter(patient=world.alice).update(allergies="Penicillin")
    record_id = global_id("HealthRecord", world.alice.health_record.pk)
    assert gql.execute(READ_RECORD, {"id": record_id}, user=world.house.user).codes == ["NOT_FOUND"]
    # when the coordinator assigns him
    result = gql.execute(ASSIGN, assign_variables(world.house, world.alice), user=world.coordinator)
    # then
    assert result.errors == []
    data = result.data["assignDoctor"]
    assignment = Assignment.objects.get(doctor=world.house, patient=world.alice)
    assert data["id"] == global_id("Assignment", assignment.pk)
    assert (data["active"], data["endedAt"], data["assignedBy"]) == (True, None, {"username": "coordinator"})
    assert (data["doctor"]["fullName"], data["patient"]["fullName"]) == (world.house.full_name, world.alice.full_name)
    assert grants(world.house, world.alice) == ["annotate_healthrecord", "view_healthrecord"]
    # and his very next read succeeds
    read = gql.execute(READ_RECORD, {"id": record_id}, user=world.house.user)
    assert read.errors == []
    assert read.data == {"node": {"allergies": "Penicillin"}}


def test_a_doctor_can_be_assigned_again_after_the_assignment_ended(gql, world):
    # given former's assignment to alice has ended
    # when
    result = gql.execute(ASSIGN, assign_variables(world.former, world.alice), user=world.coordinator)
    # then a second, active assignment exists beside the ended one
    assert result.errors == []
    assert result.data["assignDoctor"]["active"] is True
    assert sorted(
        Assignment.objects.filter(doctor=world.former, patient=world.alice).values_list("ended_at", flat=True),
        key=lambda ended: ended is None,
    )[-1] is None
    assert Assignment.objects.filter(doctor=world.former, patient=world.alice).count() == 2
    assert grants(world.former, world.alice) == ["annotate_healthrecord", "view_healthrecord"]


def test_the_doctor_is_emailed_by_the_worker_without_phi(gql, world):
    # given a distinctive patient name and PHI, neither of which may leak into the email
    User.objects.filter(pk=world.alice.user.pk).update(first_name="Zelda", last_name="Quixote")
    HealthRecord.objects.filter(patient=world.alice).update(
        allergies="Penicillin anaphylaxis", conditions="Type 1 diabetes", notes="Lives alone"
    )
    mail.outbox.clear()
    # when the assignment is made, and the outbox worker runs after it
    result = gql.execute(ASSIGN, assign_variables(world.house, world.alice), user=world.coordinator)
    # (the request itself sends nothing: mail leaves through the worker only)
    assert mail.outbox == []
    call_command("send_notifications", stdout=StringIO())
    # then
    assert result.errors == []
    to_doctor = [message for message in mail.outbox if message.to == [world.house.user.email]]
    assert len(to_doctor) == 1
    message = to_doctor[0]
    texts = [message.subject, message.body, *(content for content, _ in getattr(message, "alternatives", []))]
    patient = Patient.objects.select_related("user", "health_record").get(pk=world.alice.pk)
    forbidden = [
        patient.user.first_name, patient.user.last_name, patient.user.username, patient.user.email,
        patient.medical_record_number, str(patient.pk), str(patient.health_record.pk),
        "Penicillin", "diabetes", "Lives alone",
    ]
    leaked = [word for word in forbidden for text in texts if word.lower() in text.lower()]
    assert leaked == []
    assert "assigned" in message.subject.lower()
    # and no email at all carries the record's contents
    everything = " ".join(m.subject + m.body for m in mail.outbox).lower()
    assert "penicillin" not in everything and "diabetes" not in everything


def test_nothing_is_granted_queued_or_sent_when_the_transaction_rolls_back(world, django_capture_on_commit_callbacks):
    # given
    mail.outbox.clear()
    notifications_before = Notification.objects.count()

    class Abort(Exception):
        pass

    # when the assignment's transaction fails after the service ran
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Abort):
        with transaction.atomic():
            assignment_create(actor=world.coordinator, doctor=world.house, patient=world.alice)
            raise Abort
    # then
    assert callbacks == []
    assert mail.outbox == []
    assert Notification.objects.count() == notifications_before
    assert not Assignment.objects.filter(doctor=world.house, patient=world.alice).exists()
    assert grants(world.house, world.alice) == []
