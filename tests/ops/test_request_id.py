"""X-Request-ID: a well-formed incoming id is kept, anything else replaced; always returned."""

import re

import pytest

from audit.models import Action, AuditEvent

ME = "{ me { username } }"
UPDATE = "mutation($input: UpdateHealthRecordInput!) { updateHealthRecord(input: $input) { allergies } }"


def test_a_request_without_an_id_gets_a_fresh_one_in_the_response(gql, client, world):
    # when
    response = client.post("/graphql/", data={"query": ME}, content_type="application/json")
    other = client.post("/graphql/", data={"query": ME}, content_type="application/json")
    # then
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert response["X-Request-ID"] != other["X-Request-ID"]


def test_a_well_formed_incoming_id_is_returned_and_written_to_the_audit_trail(gql, client, world):
    # given a proxy's trace id
    incoming = "3f2a9c1e-7b4d-4e0a-9f3b-1c2d3e4f5a6b"
    # when alice changes her record (an audited write)
    result = gql.execute(
        UPDATE, {"input": {"allergies": "dust"}}, user=world.alice.user, headers={"HTTP_X_REQUEST_ID": incoming}
    )
    response = client.post("/graphql/", data={"query": ME}, content_type="application/json", HTTP_X_REQUEST_ID=incoming)
    # then
    assert result.data["updateHealthRecord"]["allergies"] == "dust"
    assert response["X-Request-ID"] == incoming
    event = AuditEvent.objects.get(action=Action.RECORD_UPDATE)
    assert event.request_id == incoming


@pytest.mark.parametrize(
    "incoming",
    [
        "short",  # under 8 characters
        "x" * 65,  # longer than the audit trail keeps
        "id with spaces",
        'id"quote',
        "id\u00e9accent",
        "id;drop-table",
    ],
)
def test_a_malformed_incoming_id_is_replaced(client, db, incoming):
    # when
    response = client.post("/graphql/", data={"query": ME}, content_type="application/json", HTTP_X_REQUEST_ID=incoming)
    # then
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
