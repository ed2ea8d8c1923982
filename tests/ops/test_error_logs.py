"""An INTERNAL error's log line: the request id and the traceback, never the exception's text
(a database error's message or DETAIL may quote a patient's data)."""

import pytest
from django.db import connection

from records.models import HealthRecord
from tests.conftest import record_updates_refused_quoting_allergies, requires_postgres

UPDATE = "mutation($input: UpdateHealthRecordInput!) { updateHealthRecord(input: $input) { allergies } }"


MISSING_TABLE = ("no such table", "does not exist")  # SQLite's and PostgreSQL's words


def error_lines(json_log) -> list[dict]:
    return [line for line in json_log.lines("schema.errors") if "exc_info" in line]


def test_an_internal_error_is_logged_with_its_request_id_and_traceback_but_not_its_message(gql, world, json_log):
    # given the records table is gone (in the test's transaction)
    table = HealthRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_gone")
    # when
    result = gql.execute("{ myHealthRecord { allergies } }", user=world.alice.user,
                         headers={"HTTP_X_REQUEST_ID": "error-trace-000123"})
    # then
    assert result.codes == ["INTERNAL"]
    [line] = error_lines(json_log)
    assert line["request_id"] == "error-trace-000123"
    assert "Traceback (most recent call last)" in line["exc_info"]
    assert "django.db.utils." in line["exc_info"]  # the exception's type is kept
    assert "(message withheld)" in line["exc_info"]
    assert not any(words in line["exc_info"] for words in MISSING_TABLE)


def test_exception_messages_can_be_switched_on_where_there_is_no_patient_data(gql, world, json_log, monkeypatch):
    # given
    monkeypatch.setenv("LOG_EXCEPTION_MESSAGES", "1")
    table = HealthRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_gone")
    # when
    gql.execute("{ myHealthRecord { allergies } }", user=world.alice.user)
    # then
    [line] = error_lines(json_log)
    assert any(words in line["exc_info"] for words in MISSING_TABLE)


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_database_error_quoting_phi_leaves_no_phi_in_the_log(gql, world, json_log):
    # given the database refuses the update with the new allergies in its message
    secret = "allergic-to-penicillin-h8-5521"
    with record_updates_refused_quoting_allergies():
        # when
        result = gql.execute(UPDATE, {"input": {"allergies": secret}}, user=world.alice.user)
    # then
    assert result.codes == ["INTERNAL"]
    [line] = error_lines(json_log)
    assert "sqlstate=P0001" in line["exc_info"]  # raise_exception: the kind of failure is kept
    assert secret not in json_log.text()
