"""The access functions (STYLE.md rule 8): one call loads, authorises, and audits a refusal.

Inside a GraphQL request the refusal joins the request's one audit append (tests/audit/
test_refused_lookups.py); called anywhere else (a command, a job) it is written at once, so no
caller can be refused silently. Hidden and missing ids leave the same event but for its patient.
"""

import uuid

import pytest

from audit.models import Action, AuditEvent, Outcome
from records.models import Annotation, HealthRecord
from records.selectors import annotation_get_for, record_get_for
from records.services import annotation_add
from tests.factories import assign, make_doctor, make_patient

pytestmark = pytest.mark.django_db

MISSING = uuid.UUID("00000000-0000-4000-8000-000000000000")


def refusals():
    return list(
        AuditEvent.objects.filter(outcome=Outcome.DENIED).values_list(
            "actor_id", "action", "patient_id", "object_type", "object_id", "fields"
        )
    )


@pytest.mark.parametrize("record_id", ["hidden", "missing"])
def test_a_refused_record_outside_a_request_is_audited_at_once(record_id):
    # given a doctor not assigned to alice
    alice, stranger = make_patient(), make_doctor()
    record = alice.health_record
    asked = record.pk if record_id == "hidden" else MISSING
    # when they look her record up through the access function
    with pytest.raises(HealthRecord.DoesNotExist):
        record_get_for(user=stranger.user, record_id=asked, fields=["allergies"])
    # then the refusal is in the trail, naming whose record it was when there is one
    patient = alice.pk if record_id == "hidden" else None
    assert refusals() == [
        (stranger.user.pk, Action.RECORD_READ, patient, "records.HealthRecord", str(asked), ["allergies"])
    ]


def test_a_permitted_record_is_returned_and_no_refusal_written():
    # given alice's assigned doctor
    alice, doctor = make_patient(), make_doctor()
    assign(doctor=doctor, patient=alice)
    # when they look her record up
    record = record_get_for(user=doctor.user, record_id=alice.health_record.pk)
    # then they get it, and nothing is refused
    assert record.pk == alice.health_record.pk
    assert refusals() == []


def test_a_refused_annotation_is_audited_against_its_record():
    # given an annotation on alice's record, and a doctor never assigned to her
    alice, doctor, stranger = make_patient(), make_doctor(), make_doctor()
    assign(doctor=doctor, patient=alice)
    note = annotation_add(actor=doctor.user, record=alice.health_record, body="BP 120/80")
    # when the stranger asks for it to retract it
    with pytest.raises(Annotation.DoesNotExist):
        annotation_get_for(user=stranger.user, annotation_id=note.pk, action=Action.ANNOTATION_RETRACT)
    # then the refusal names alice's record, not the annotation
    assert refusals() == [
        (
            stranger.user.pk,
            Action.ANNOTATION_RETRACT,
            alice.pk,
            "records.HealthRecord",
            str(alice.health_record.pk),
            [],
        )
    ]
