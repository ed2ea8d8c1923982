"""assignments: own ones (or all, for staff), filtered by `active` in SQL."""

import pytest

from tests import factories

ASSIGNMENTS = """
query ($active: Boolean) { assignments(active: $active) {
  totalCount edges { node { active endedAt doctor { fullName } assignedBy { username } } } } }
"""


def rows(result):
    edges = result.data["assignments"]["edges"]
    return sorted((edge["node"]["doctor"]["fullName"], edge["node"]["active"]) for edge in edges)


@pytest.mark.parametrize(
    ("active", "expected"),
    [(None, [("grey", True), ("former", False)]), (True, [("grey", True)]), (False, [("former", False)])],
)
def test_staff_filter_by_active(gql, world, active, expected):
    # when
    result = gql.execute(ASSIGNMENTS, {"active": active}, user=world.coordinator)
    # then
    assert result.errors == []
    assert result.data["assignments"]["totalCount"] == len(expected)
    assert rows(result) == sorted((getattr(world, name).full_name, flag) for name, flag in expected)
    assert {edge["node"]["assignedBy"]["username"] for edge in result.data["assignments"]["edges"]} == {"coordinator"}


@pytest.mark.parametrize(("active", "count"), [(None, 1), (True, 0), (False, 1)])
def test_a_former_doctor_sees_only_their_own_ended_assignment(gql, world, active, count):
    # when
    result = gql.execute(ASSIGNMENTS, {"active": active}, user=world.former.user)
    # then
    assert result.errors == []
    assert result.data["assignments"]["totalCount"] == count
    edges = result.data["assignments"]["edges"]
    assert len(edges) == count
    assert all(edge["node"]["endedAt"] is not None for edge in edges)


ASSIGNMENTS_WITH_PATIENTS = """
{ assignments(first: 100) { edges { node { active patient { fullName medicalRecordNumber }
    assigner { fullName role } assignedBy { username } } } } }
"""


@pytest.mark.parametrize("viewer", ["doctor", "patient"])
def test_whom_an_assignment_was_about_is_decided_in_sql_at_a_constant_cost(db, gql, django_assert_num_queries, viewer):
    # given a doctor with one active and one ended assignment, per round; a patient with both too
    staff = factories.make_staff()
    doctor = factories.make_doctor()
    patient = factories.make_patient()
    user = doctor.user if viewer == "doctor" else patient.user
    gql.sign_in(user)
    seen = []
    for round_size in (1, 6):
        for _ in range(round_size):
            other = factories.make_patient()
            factories.assign(doctor=doctor, patient=other, by=staff)
            factories.end(factories.assign(doctor=doctor, patient=factories.make_patient(), by=staff), by=staff)
            colleague = factories.make_doctor()
            factories.end(factories.assign(doctor=colleague, patient=patient, by=staff), by=staff)
            factories.assign(doctor=colleague, patient=patient, by=staff)
        # when the viewer lists their assignments
        with django_assert_num_queries(2):  # the count and the page, each patient's visibility a column of it
            result = gql.execute(ASSIGNMENTS_WITH_PATIENTS, user=user)
        assert result.errors == []
        nodes = [edge["node"] for edge in result.data["assignments"]["edges"]]
        seen.append(nodes)
    # then a doctor sees the patients of the active ones only; the patient herself on every one
    for nodes in seen:
        if viewer == "doctor":
            assert all((node["patient"] is None) == (not node["active"]) for node in nodes)
        else:
            assert {node["patient"]["fullName"] for node in nodes} == {patient.full_name}
            assert {node["assignedBy"] for node in nodes} == {None}
        assert {node["assigner"]["role"] for node in nodes} == {"STAFF"}
    assert len(seen[0]) < len(seen[1])
