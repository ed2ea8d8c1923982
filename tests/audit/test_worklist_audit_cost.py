"""Auditing a 20-patient worklist costs one statement: the bulk append of all its read events."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import Action, AuditEvent
from records.services import annotation_add
from tests import factories

WORKLIST = """
{ patients(first: 20) { edges { node { fullName healthRecord {
    allergies medications annotations(first: 5) { edges { node { body author { fullName } } } } } } } } }
"""
PATIENTS = 20


def test_auditing_a_20_patient_worklist_adds_one_query(db, gql, settings, django_assert_num_queries):
    # given a doctor with 20 assigned patients, each with a note
    staff = factories.make_staff()
    doctor = factories.make_doctor()
    for _ in range(PATIENTS):
        patient = factories.make_patient()
        factories.assign(doctor=doctor, patient=patient, by=staff)
        annotation_add(actor=doctor.user, record=patient.health_record, body="Reviewed.")
    gql.execute(WORKLIST, user=doctor.user)  # warm caches (content types), so both runs start alike
    reads_before = AuditEvent.objects.filter(action=Action.RECORD_READ).count()

    # when the worklist is loaded with read auditing off, then on
    settings.AUDIT_READS = False
    with CaptureQueriesContext(connection) as unaudited:
        gql.execute(WORKLIST, user=doctor.user)
    settings.AUDIT_READS = True
    with django_assert_num_queries(len(unaudited) + 1):
        result = gql.execute(WORKLIST, user=doctor.user)

    # then every patient came back, and the one extra statement recorded a read of each of them
    assert result.errors == []
    assert len(result.data["patients"]["edges"]) == PATIENTS
    events = AuditEvent.objects.filter(action=Action.RECORD_READ)[reads_before:]
    assert len(events) == PATIENTS
    assert {tuple(event.fields) for event in events} == {
        ("allergies", "annotations.author", "annotations.body", "medications")
    }
