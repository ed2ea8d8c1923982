"""Concurrent assignDoctor for the same pair: the partial unique index decides, on PostgreSQL."""

import threading

import pytest
from django.db import connection
from django.test import Client
from graphql_jwt.shortcuts import get_token

from care.models import Assignment
from records.models import HealthRecordUserObjectPermission
from tests import factories
from tests.conftest import GraphQLClient, global_id, requires_postgres

ASSIGN = "mutation ($input: AssignDoctorInput!) { assignDoctor(input: $input) { active } }"
THREADS = 8


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_assign_doctor_for_the_same_pair_makes_exactly_one_assignment():
    # given a staff member, a doctor and a patient, committed so every thread sees them
    staff = factories.make_staff()
    doctor = factories.make_doctor()
    patient = factories.make_patient()
    token = get_token(staff)
    variables = {"input": {"doctorId": global_id("Doctor", doctor.pk), "patientId": global_id("Patient", patient.pk)}}
    barrier = threading.Barrier(THREADS)
    results, failures = [], []

    def assign():
        try:
            client = GraphQLClient(Client())
            barrier.wait(timeout=30)  # all threads fire at once
            results.append(client.execute(ASSIGN, variables, token=token))
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=assign) for _ in range(THREADS)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then exactly one succeeded, the others got CONFLICT, none an INTERNAL error
    assert failures == []
    assert len(results) == THREADS
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
    token = get_token(staff)
    query = "mutation ($input: EndAssignmentInput!) { endAssignment(input: $input) { active } }"
    variables = {"input": {"id": global_id("Assignment", assignment.pk)}}
    barrier = threading.Barrier(THREADS)
    results, failures = [], []

    def end():
        try:
            client = GraphQLClient(Client())
            barrier.wait(timeout=30)
            results.append(client.execute(query, variables, token=token))
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=end) for _ in range(THREADS)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then one ended it, the others were told it had already ended
    assert failures == []
    assert [result.data for result in results if not result.errors] == [{"endAssignment": {"active": False}}]
    assert sorted(code for result in results for code in result.codes) == ["CONFLICT"] * (THREADS - 1)
    assignment.refresh_from_db()
    assert assignment.ended_at is not None
    assert not HealthRecordUserObjectPermission.objects.filter(user=doctor.user).exists()
