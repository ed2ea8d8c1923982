"""Concurrent assignDoctor for the same pair: the partial unique index decides, on PostgreSQL."""


import pytest

from care.models import Assignment
from records.models import HealthRecordUserObjectPermission
from tests import factories
from tests.conftest import access_token, global_id, requires_postgres, run_concurrently

ASSIGN = "mutation ($input: AssignDoctorInput!) { assignDoctor(input: $input) { active } }"
THREADS = 8


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_assign_doctor_for_the_same_pair_makes_exactly_one_assignment():
    # given a staff member, a doctor and a patient, committed so every thread sees them
    staff = factories.make_staff()
    doctor = factories.make_doctor()
    patient = factories.make_patient()
    token = access_token(staff)
    variables = {"input": {"doctorId": global_id("Doctor", doctor.pk), "patientId": global_id("Patient", patient.pk)}}
    # when every thread assigns the same pair at once
    results = run_concurrently(THREADS, lambda client: client.execute(ASSIGN, variables, token=token))
    # then exactly one succeeded, the others got CONFLICT, none an INTERNAL error
    successes = [result for result in results if not result.errors]
    assert [result.data for result in successes] == [{"assignDoctor": {"active": True}}]
    assert sorted(code for result in results for code in result.codes) == ["CONFLICT"] * (THREADS - 1)
    assert all(result.data is None for result in results if result.errors)
    assert Assignment.objects.filter(doctor=doctor, patient=patient, ended_at__isnull=True).count() == 1
    # and the doctor holds each record permission once
    grants = HealthRecordUserObjectPermission.objects.filter(user=doctor.user, content_object=patient.health_record)
    codenames = sorted(grants.values_list("permission__codename", flat=True))
    assert codenames == ["annotate_healthrecord", "view_healthrecord"]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_end_assignment_ends_it_once():
    # given an active assignment, committed
    staff = factories.make_staff()
    doctor = factories.make_doctor()
    patient = factories.make_patient()
    assignment = factories.assign(doctor=doctor, patient=patient, by=staff)
    token = access_token(staff)
    query = "mutation ($input: EndAssignmentInput!) { endAssignment(input: $input) { active } }"
    variables = {"input": {"id": global_id("Assignment", assignment.pk)}}
    # when every thread ends it at once
    results = run_concurrently(THREADS, lambda client: client.execute(query, variables, token=token))
    # then one ended it, the others were told it had already ended
    assert [result.data for result in results if not result.errors] == [{"endAssignment": {"active": False}}]
    assert sorted(code for result in results for code in result.codes) == ["CONFLICT"] * (THREADS - 1)
    assignment.refresh_from_db()
    assert assignment.ended_at is not None
    assert not HealthRecordUserObjectPermission.objects.filter(user=doctor.user).exists()
