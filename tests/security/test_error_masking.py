"""An unexpected exception reaches the client as INTERNAL with a generic message and the request
id; the server log has the traceback under the same id. Real failures, not mocks: the database
loses a table (in the test's transaction) or, on PostgreSQL, a trigger fails with PHI in its
message."""

import json
import logging

import pytest
from django.db import connection

from records.models import HealthRecord
from tests.conftest import access_token, record_updates_refused_quoting_allergies, requires_postgres

LEAKS = ("select", "records_healthrecord", "traceback", "file \"", ".py", "/work", "sqlite", "psycopg", "relation")


def error_log(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "schema.errors" and record.exc_info]


def test_a_database_failure_is_internal_with_the_request_id_and_logged(gql, world, caplog):
    # given: the records table is gone
    table = HealthRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_gone")
    caplog.set_level(logging.ERROR, logger="schema.errors")

    # when
    result = gql.execute("{ myHealthRecord { allergies } }", user=world.alice.user)

    # then: the client learns only that it failed, and which request to quote
    assert result.codes == ["INTERNAL"]
    error = result.errors[0]
    assert error["message"] == "Internal server error."
    request_id = error["extensions"]["requestId"]
    assert len(request_id) >= 8
    text = json.dumps(result.body).lower()
    for leak in LEAKS:
        assert leak not in text
    # and the log has the exception, its traceback and the same id
    [record] = error_log(caplog)
    assert request_id in record.getMessage()
    logged = caplog.text
    assert "Traceback" in logged
    assert table in logged


def test_the_request_id_in_the_error_is_the_response_header(client, world, caplog):
    # given
    table = HealthRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_gone")

    # when
    response = client.post(
        "/graphql/",
        data=json.dumps({"query": "{ myHealthRecord { allergies } }"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {access_token(world.alice.user)}",
    )

    # then
    assert response.json()["errors"][0]["extensions"]["requestId"] == response["X-Request-ID"]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_an_exception_carrying_phi_does_not_reach_the_client(gql, world, caplog):
    # given: the database refuses the update with the new allergies in its message
    secret = "allergic-to-penicillin-7f3a"
    caplog.set_level(logging.ERROR, logger="schema.errors")
    with record_updates_refused_quoting_allergies():
        # when
        result = gql.execute(
            "mutation($input: UpdateHealthRecordInput!) { updateHealthRecord(input: $input) { allergies } }",
            {"input": {"allergies": secret}},
            user=world.alice.user,
        )

    # then
    assert result.codes == ["INTERNAL"]
    assert secret not in json.dumps(result.body)
    assert "refused" not in json.dumps(result.body)
    [record] = error_log(caplog)
    assert result.errors[0]["extensions"]["requestId"] in record.getMessage()
    assert f"refused: {secret}" in caplog.text  # the trigger's failure, kept for the operators
    assert HealthRecord.objects.get(patient=world.alice).allergies != secret
