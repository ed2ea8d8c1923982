"""A NUL character in any input answers BAD_USER_INPUT naming the field; nothing is written.

PostgreSQL text cannot hold U+0000, so without the check these became INTERNAL errors there.
"""

import pytest

from records.models import Annotation, HealthRecord, HealthRecordRevision
from tests.conftest import global_id

UPDATE = "mutation ($input: UpdateHealthRecordInput!) { updateHealthRecord(input: $input) { id } }"
ADD = "mutation ($input: AddAnnotationInput!) { addAnnotation(input: $input) { id } }"
LOGIN = "mutation ($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token } }"
SEARCH = "query ($s: String) { patients(search: $s) { totalCount } }"


def snapshot():
    records = list(HealthRecord.objects.order_by("id").values())
    return records, HealthRecordRevision.objects.count(), Annotation.objects.count()


@pytest.mark.parametrize(
    ("caller", "query", "variables", "fields"),
    [
        ("alice", UPDATE, {"input": {"allergies": "Latex\x00"}}, ["allergies"]),
        ("alice", UPDATE, {"input": {"notes": "a\x00b", "medications": "\x00"}}, ["notes", "medications"]),
        ("grey", ADD, {"input": {"recordId": "RECORD", "body": "Fine.\x00"}}, ["body"]),
        (None, LOGIN, {"u": "al\x00ice", "p": "secret"}, ["u"]),
        ("coordinator", SEARCH, {"s": "Ad\x00ams"}, ["s"]),
    ],
)
def test_null_characters_in_variables(gql, world, caller, query, variables, fields):
    # given
    if "input" in variables and variables["input"].get("recordId") == "RECORD":
        variables["input"]["recordId"] = global_id("HealthRecord", world.alice.health_record.pk)
    user = {"alice": world.alice.user, "grey": world.grey.user, "coordinator": world.coordinator, None: None}[caller]
    before = snapshot()
    # when
    result = gql.execute(query, variables, user=user) if user else gql.execute(query, variables)
    # then
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["fields"] == {field: ["Null characters are not allowed."] for field in fields}
    assert result.data is None
    assert snapshot() == before


def test_null_characters_in_a_literal(gql, world):
    # given
    query = 'mutation { updateHealthRecord(input: {conditions: "Asthma\\u0000"}) { id } }'
    # when
    result = gql.execute(query, user=world.alice.user)
    # then
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["fields"] == {"conditions": ["Null characters are not allowed."]}
    assert HealthRecord.objects.get(patient=world.alice).conditions == ""


def test_the_same_document_with_clean_variables_still_works(gql, world):
    # given the document was refused once for its variables
    assert gql.execute(UPDATE, {"input": {"allergies": "x\x00"}}, user=world.alice.user).codes == ["BAD_USER_INPUT"]
    # when
    result = gql.execute(UPDATE, {"input": {"allergies": "Latex"}}, user=world.alice.user)
    # then
    assert result.errors == []
    assert HealthRecord.objects.get(patient=world.alice).allergies == "Latex"
