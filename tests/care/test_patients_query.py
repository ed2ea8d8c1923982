"""patients: scoped in SQL to the caller, searchable, paginated forward with a capped `first`."""

import base64

import pytest

from tests import factories
from tests.conftest import global_id

PATIENTS = """
query ($search: String, $first: Int, $after: String) {
  patients(search: $search, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { fullName medicalRecordNumber } }
  }
}
"""


def names(result):
    return [edge["node"]["fullName"] for edge in result.data["patients"]["edges"]]


def test_search_matches_names_and_an_exact_mrn_within_the_callers_scope(gql, world):
    # given
    mrn = world.alice.medical_record_number
    # when / then: staff find alice by name or MRN, bob does not match
    by_name = gql.execute(PATIENTS, {"search": world.alice.user.last_name}, user=world.coordinator)
    assert names(by_name) == [world.alice.full_name]
    by_mrn = gql.execute(PATIENTS, {"search": mrn.lower()}, user=world.coordinator)
    assert names(by_mrn) == [world.alice.full_name]
    # and a doctor never finds a patient outside their assignments, whatever the search
    for search in (world.bob.user.last_name, world.bob.medical_record_number):
        hidden = gql.execute(PATIENTS, {"search": search}, user=world.grey.user)
        assert hidden.errors == []
        assert (hidden.data["patients"]["totalCount"], hidden.data["patients"]["edges"]) == (0, [])


def test_patients_are_paginated_forward(gql, world):
    # given five more patients (seven in all) for staff to page through
    for _ in range(5):
        factories.make_patient()
    # when
    seen, after = [], None
    while True:
        page = gql.execute(PATIENTS, {"first": 3, "after": after}, user=world.coordinator)
        assert page.errors == []
        assert page.data["patients"]["totalCount"] == 7
        seen.extend(names(page))
        if not page.data["patients"]["pageInfo"]["hasNextPage"]:
            break
        after = page.data["patients"]["pageInfo"]["endCursor"]
    # then every patient once
    assert len(seen) == 7 == len(set(seen))


# (`first` above 100 belongs to the query limits and their own tests.)
@pytest.mark.parametrize(("variables", "field"), [({"first": -1}, "first"), ({"after": "!!"}, "after")])
def test_bad_pagination_arguments_are_bad_user_input(gql, world, variables, field):
    # when
    result = gql.execute(PATIENTS, variables, user=world.coordinator)
    # then
    assert result.codes == ["BAD_USER_INPUT"]
    assert list(result.errors[0]["extensions"]["fields"]) == [field]
    assert result.data is None


@pytest.mark.parametrize(
    "cursor",
    [
        "arrayconnection:-5",
        "arrayconnection:abc",
        "arrayconnection:",
        "arrayconnection:1.5",
        "arrayconnection:99999999999999999999",
        "foo:1",
        "arrayconnection",
    ],
)
def test_a_forged_cursor_is_bad_user_input_on_every_connection(gql, world, cursor):
    # given a cursor this API never hands out
    after = base64.b64encode(cursor.encode()).decode()
    record_annotations = """
    query ($id: ID!, $after: String) { node(id: $id) { ... on HealthRecord {
      annotations(first: 2, after: $after) { edges { node { body } } } } } }
    """
    # when
    patients = gql.execute(PATIENTS, {"first": 2, "after": after}, user=world.coordinator)
    annotations = gql.execute(
        record_annotations,
        {"id": global_id("HealthRecord", world.alice.health_record.pk), "after": after},
        user=world.alice.user,
    )
    # then
    for result in (patients, annotations):
        assert result.codes == ["BAD_USER_INPUT"]
        assert result.errors[0]["extensions"]["fields"] == {"after": ["Not a valid cursor."]}


def test_a_cursor_past_the_end_is_an_empty_page(gql, world):
    # when
    after = base64.b64encode(b"arrayconnection:1000").decode()
    result = gql.execute(PATIENTS, {"first": 2, "after": after}, user=world.coordinator)
    # then
    assert result.errors == []
    assert result.data["patients"]["edges"] == []


@pytest.mark.parametrize("search", ["a " * 2000, "x" * 201, " ".join(f"w{n}" for n in range(11))])
def test_an_oversized_search_is_bad_user_input(gql, world, search):
    # when
    result = gql.execute(PATIENTS, {"search": search}, user=world.coordinator)
    # then
    assert result.codes == ["BAD_USER_INPUT"]
    assert list(result.errors[0]["extensions"]["fields"]) == ["search"]
    assert result.data is None


def test_repeated_search_words_count_once(gql, world):
    # when alice's last name comes twelve times (one distinct word)
    words = [world.alice.user.last_name] * 12
    result = gql.execute(PATIENTS, {"search": " ".join(words)}, user=world.coordinator)
    # then
    assert result.errors == []
    assert names(result) == [world.alice.full_name]
