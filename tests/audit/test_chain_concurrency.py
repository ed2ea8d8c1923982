"""Concurrent appends queue up on PostgreSQL: one gapless chain, nothing lost, no fork."""

import threading

import pytest
from django.db import connection
from django.test import Client
from graphql_jwt.shortcuts import get_token

from audit.models import Action, AuditEvent
from audit.selectors import audit_chain_verify
from tests import factories
from tests.conftest import GraphQLClient, global_id, requires_postgres

THREADS = 8
READS_PER_THREAD = 3
READ = "query($id: ID!) { node(id: $id) { ... on HealthRecord { allergies } } }"


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_append_one_intact_chain():
    # given a doctor assigned to a patient, committed so every thread sees them
    staff = factories.make_staff()
    doctor = factories.make_doctor()
    patient = factories.make_patient()
    factories.assign(doctor=doctor, patient=patient, by=staff)
    token = get_token(doctor.user)
    variables = {"id": global_id("HealthRecord", patient.health_record.pk)}
    before = AuditEvent.objects.count()
    barrier = threading.Barrier(THREADS)
    results, failures = [], []

    def read():
        try:
            client = GraphQLClient(Client())
            barrier.wait(timeout=30)  # all threads fire at once
            for _ in range(READS_PER_THREAD):
                results.append(client.execute(READ, variables, token=token))
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=read) for _ in range(THREADS)]
    # when they all read at once
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then every read succeeded and was recorded, and the chain has no gap, fork or bad link
    assert failures == []
    assert [result.data for result in results] == [{"node": {"allergies": ""}}] * THREADS * READS_PER_THREAD
    assert AuditEvent.objects.filter(action=Action.RECORD_READ).count() == THREADS * READS_PER_THREAD
    report = audit_chain_verify()
    assert report.broken is None
    assert report.checked == before + THREADS * READS_PER_THREAD
