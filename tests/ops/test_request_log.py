"""One structured JSON line per request, and never a token, password or PHI in the logs."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import global_id
from tests.factories import PASSWORD


@pytest.fixture
def request_lines(json_log):
    """The request log lines of the test, as production writes them."""
    return lambda: json_log.lines("clinic.request")


@pytest.fixture
def all_log_text(json_log):
    return json_log.text


def test_a_query_is_logged_with_request_id_user_operation_duration_and_query_count(gql, world, request_lines):
    # given
    document = "query Worklist { me { username } patients(first: 5) { totalCount } }"
    gql.sign_in(world.grey.user)
    # when
    with CaptureQueriesContext(connection) as queries:
        result = gql.execute(document, user=world.grey.user, headers={"HTTP_X_REQUEST_ID": "trace-0001-abcdef"})
    # then
    assert result.data["me"]["username"] == "dr.grey"
    [line] = request_lines()
    assert line["request_id"] == "trace-0001-abcdef"
    assert line["user_id"] == str(world.grey.user.pk)
    assert line["graphql_operation_name"] == "Worklist"
    assert line["graphql_operation_type"] == "query"
    assert line["method"] == "POST"
    assert line["path"] == "/graphql/"
    assert line["status"] == 200
    assert line["graphql_errors"] is False
    assert line["graphql_error_codes"] == []
    assert line["db_queries"] == len(queries.captured_queries) > 0
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["level"] == "INFO"


def test_a_failed_mutation_is_logged_with_its_error_codes_and_no_user(gql, world, request_lines):
    # given an anonymous caller
    document = "mutation Note($input: AddAnnotationInput!) { addAnnotation(input: $input) { id } }"
    variables = {"input": {"recordId": global_id("HealthRecord", world.alice.health_record.pk), "body": "x"}}
    # when
    result = gql.execute(document, variables)
    # then
    assert result.codes == ["UNAUTHENTICATED"]
    [line] = request_lines()
    assert line["user_id"] is None
    assert line["graphql_operation_name"] == "Note"
    assert line["graphql_operation_type"] == "mutation"
    assert line["graphql_errors"] is True
    assert line["graphql_error_codes"] == ["UNAUTHENTICATED"]


def test_an_anonymous_operation_and_an_unparsable_document_are_logged_without_a_name(gql, db, request_lines):
    # when
    named_nothing = gql.execute("{ __typename }")
    broken = gql.execute("query {")
    # then
    assert named_nothing.data == {"__typename": "Query"}
    assert broken.codes
    first, second = request_lines()
    assert (first["graphql_operation_name"], first["graphql_operation_type"]) == (None, "query")
    assert (second["graphql_operation_name"], second["graphql_operation_type"]) == (None, None)
    assert second["graphql_errors"] is True


def test_logs_never_hold_tokens_passwords_or_phi(gql, world, all_log_text, request_lines):
    # given distinctive secrets: a wrong and a right password, tokens, and PHI in a write
    wrong_password = "Wrong-Pass-Zebra-7731"
    allergy = "Allergy-Kumquat-5519"
    note = "Annotation-Narwhal-8842"
    login = "mutation Login($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token refreshToken } }"
    # when
    failed = gql.execute(login, {"u": "alice", "p": wrong_password})
    session = gql.execute(login, {"u": "alice", "p": PASSWORD}).data["tokenAuth"]
    updated = gql.execute(
        "mutation Update($input: UpdateHealthRecordInput!) { updateHealthRecord(input: $input) { allergies } }",
        {"input": {"allergies": allergy}},
        token=session["token"],
    )
    annotated = gql.execute(
        "mutation Note($input: AddAnnotationInput!) { addAnnotation(input: $input) { body } }",
        {"input": {"recordId": global_id("HealthRecord", world.alice.health_record.pk), "body": note}},
        user=world.grey.user,
    )
    logout = "mutation Logout($r: String) { revokeToken(refreshToken: $r) { revoked } }"
    gql.execute(logout, {"r": session["refreshToken"]})
    # then the operations happened and were logged...
    assert failed.errors
    assert updated.data["updateHealthRecord"]["allergies"] == allergy
    assert annotated.data["addAnnotation"]["body"] == note
    names = [line["graphql_operation_name"] for line in request_lines()]
    assert names == ["Login", "Login", "Update", "Note", "Logout"]
    # ...and none of the secrets is anywhere in the log output
    text = all_log_text()
    for secret in (wrong_password, PASSWORD, session["token"], session["refreshToken"], allergy, note):
        assert secret not in text


def test_a_request_refused_before_graphql_runs_is_logged_with_its_code(client, db, request_lines):
    # when a form is posted instead of JSON
    response = client.post("/graphql/", data={"query": "{ me { username } }"})
    # then
    assert response.status_code == 415
    [line] = request_lines()
    assert line["status"] == 415
    assert line["graphql_errors"] is True
    assert line["graphql_error_codes"] == [response.json()["errors"][0]["extensions"]["code"]]
    assert line["graphql_operation_name"] is None
