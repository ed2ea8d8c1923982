"""A doctor's worklist costs a constant number of SQL queries, however many patients it holds."""

import pytest

from records.services import annotation_add
from tests import factories

WORKLIST = """
{ patients { edges { node { healthRecord { annotations { edges { node { author { fullName } } } } } } } } }
"""

# 1 the token's user (with role profiles), 1 patients, 1 health records (scoped through the
# guardian rows), 1 annotations with their authors (scoped the same way, in the prefetch),
# 1 the audit trail's append of every patient's read event (one statement, issue 5).
WORKLIST_QUERIES = 5
ANNOTATIONS_PER_PATIENT = 3


def doctor_with_patients(count: int):
    staff = factories.make_staff()
    doctor = factories.make_doctor()
    colleague = factories.make_doctor()
    for _ in range(count):
        patient = factories.make_patient()
        factories.assign(doctor=doctor, patient=patient, by=staff)
        factories.assign(doctor=colleague, patient=patient, by=staff)
        for n in range(ANNOTATIONS_PER_PATIENT):
            author = doctor if n % 2 == 0 else colleague
            annotation_add(actor=author.user, record=patient.health_record, body=f"Note {n}")
    # noise the worklist must not show: someone else's patient with notes
    other = factories.make_patient()
    factories.assign(doctor=colleague, patient=other, by=staff)
    annotation_add(actor=colleague.user, record=other.health_record, body="Not yours.")
    return doctor, colleague


@pytest.mark.parametrize("patients", [2, 20])
def test_worklist_query_count_does_not_grow_with_patients(db, gql, django_assert_num_queries, patients):
    # given a doctor with `patients` assigned patients, each with a few annotations by two doctors
    doctor, colleague = doctor_with_patients(patients)
    gql.sign_in(doctor.user)
    # when
    with django_assert_num_queries(WORKLIST_QUERIES):
        result = gql.execute(WORKLIST, user=doctor.user)
    # then every patient and every annotation came back, with its author's name
    assert result.errors == []
    edges = result.data["patients"]["edges"]
    assert len(edges) == patients
    names = [
        [note["node"]["author"]["fullName"] for note in edge["node"]["healthRecord"]["annotations"]["edges"]]
        for edge in edges
    ]
    # newest first: note 2 (doctor), note 1 (colleague), note 0 (doctor)
    assert names == [[doctor.full_name, colleague.full_name, doctor.full_name]] * patients
