"""assignments: own ones (or all, for staff), filtered by `active` in SQL."""

import pytest

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
