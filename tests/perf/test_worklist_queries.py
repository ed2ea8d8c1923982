"""The doctor's worklist costs the same SQL at 10 and at 1,000 patients (DESIGN.md section 7).

Token authentication and read auditing are inside the count: the whole request is measured.
"""

import io

import pytest
from django.core.management import call_command

from audit.models import Action, AuditEvent
from tests.conftest import access_token
from users.models import User

WORKLIST = """
query Worklist($first: Int!) {
  patients(first: $first) { edges { node { fullName healthRecord { allergies medications updatedAt
    annotations(first: 10) { edges { node { body createdAt author { fullName } } } } } } } }
}
"""
# 1 the token's user (with its role profiles), 1 the patients with their users, 1 their health
# records and 1 the ten newest annotations of each with their authors (both scoped to the
# guardian rows in SQL, in the optimizer's prefetches), 1 the read-audit append (one statement).
WORKLIST_QUERIES = 5
ANNOTATIONS_PER_PATIENT = 12  # more than the 10 asked for: the page is cut in SQL


def seed(patients: int) -> User:
    call_command("seed_demo", patients=patients, annotations_per_patient=ANNOTATIONS_PER_PATIENT, stdout=io.StringIO())
    return User.objects.get(username="dr.grey")


@pytest.mark.parametrize(("patients", "first"), [(10, 10), (1000, 100)])
def test_worklist_queries_do_not_grow_with_patients(db, gql, django_assert_num_queries, patients, first):
    # given dr.grey with `patients` assigned patients (plus alice, from the demo), 12 notes each
    grey = seed(patients)
    token = access_token(grey)
    reads_before = AuditEvent.objects.filter(action=Action.RECORD_READ).count()
    # when the worklist is asked for, as an SPA does: Bearer token, one POST
    with django_assert_num_queries(WORKLIST_QUERIES):
        result = gql.execute(WORKLIST, {"first": first}, token=token)
    # then a full page came back, ten newest notes per patient with their author
    assert result.errors == []
    edges = result.data["patients"]["edges"]
    assert len(edges) == first
    assert edges[0]["node"]["fullName"] == "Alice Adams"  # demo patient, no notes
    assert edges[0]["node"]["healthRecord"]["annotations"]["edges"] == []
    seeded = [edge["node"]["healthRecord"] for edge in edges[1:]]
    assert all(len(record["annotations"]["edges"]) == 10 for record in seeded)
    notes = [note["node"] for note in seeded[0]["annotations"]["edges"]]
    assert {note["author"]["fullName"] for note in notes} == {"Meredith Grey"}
    assert [note["createdAt"] for note in notes] == sorted((note["createdAt"] for note in notes), reverse=True)
    # and each patient's record read was audited by the one statement counted above
    assert AuditEvent.objects.filter(action=Action.RECORD_READ).count() - reads_before == first


def test_the_worklist_shows_only_assigned_patients_at_scale(db, gql):
    # given 1,000 patients assigned to dr.grey and a doctor with none
    seed(1000)
    house = User.objects.get(username="dr.house")
    # when dr.house asks for the worklist
    result = gql.execute(WORKLIST, {"first": 100}, user=house)
    # then the bulk-created data grants him nothing: scoping holds at scale
    assert result.errors == []
    assert result.data["patients"]["edges"] == []
