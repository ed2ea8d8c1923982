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


MALFORMED = [
    "",  # empty
    "x" * 65,  # longer than the audit trail keeps
    "id with spaces",
    'id"quote',
    "id\u00e9accent",  # non-ASCII (WSGI hands such bytes over as Latin-1 characters)
    "id;drop-table",
    "trace:1234abcd",  # colons are not in the allowed set either
    "line\nbreak",
    "\u0661\u0662\u0663",  # Arabic-Indic digits: digits to \d, not to [0-9]
]


@pytest.mark.parametrize("incoming", MALFORMED)
def test_a_malformed_incoming_id_is_replaced(client, db, incoming):
    # when
    response = client.post("/graphql/", data={"query": ME}, content_type="application/json", HTTP_X_REQUEST_ID=incoming)
    # then
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@pytest.mark.parametrize("incoming", ["a", "x" * 64, "Req-1.2_3", "3f2a9c1e7b4d4e0a9f3b1c2d3e4f5a6b"])
def test_ids_of_1_to_64_allowed_characters_are_kept(client, db, incoming):
    # when
    response = client.post("/graphql/", data={"query": ME}, content_type="application/json", HTTP_X_REQUEST_ID=incoming)
    # then
    assert response["X-Request-ID"] == incoming


@pytest.mark.parametrize("incoming", MALFORMED)
def test_a_malformed_id_never_reaches_the_audit_trail(gql, world, incoming):
    # when alice changes her record (an audited write) sending a malformed id
    result = gql.execute(
        UPDATE, {"input": {"allergies": "dust"}}, user=world.alice.user, headers={"HTTP_X_REQUEST_ID": incoming}
    )
    # then the write is audited under a fresh id, not the one sent
    assert result.data["updateHealthRecord"]["allergies"] == "dust"
    event = AuditEvent.objects.get(action=Action.RECORD_UPDATE)
    assert re.fullmatch(r"[0-9a-f]{32}", event.request_id)
    assert event.request_id != incoming
