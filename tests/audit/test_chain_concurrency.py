"""Concurrent appends queue up on PostgreSQL: one gapless chain, nothing lost, no fork."""

import pytest

from audit.models import Action, AuditEvent
from audit.selectors import audit_chain_verify
from tests import factories
from tests.conftest import access_token, global_id, requires_postgres, run_concurrently

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
    token = access_token(doctor.user)
    variables = {"id": global_id("HealthRecord", patient.health_record.pk)}
    before = AuditEvent.objects.count()
    # when they all read at once
    results = run_concurrently(
        THREADS, lambda client: client.execute(READ, variables, token=token), repeat=READS_PER_THREAD
    )
    # then every read succeeded and was recorded, and the chain has no gap, fork or bad link
    assert [result.data for result in results] == [{"node": {"allergies": ""}}] * THREADS * READS_PER_THREAD
    assert AuditEvent.objects.filter(action=Action.RECORD_READ).count() == THREADS * READS_PER_THREAD
    report = audit_chain_verify()
    assert report.broken is None
    assert report.checked == before + THREADS * READS_PER_THREAD
