"""POST application/json, one operation, at most 1 MiB: anything else is a 4xx before any work
(before the caller's token is even looked up: no query reaches the database)."""

import json

import pytest

from schema.limits import MAX_BODY_BYTES
from tests.factories import PASSWORD

URL = "/graphql/"
LOGIN = {"query": f'mutation {{ tokenAuth(username: "alice", password: "{PASSWORD}") {{ token }} }}'}


def test_a_body_over_one_mebibyte_is_refused_with_413(client, world, django_assert_num_queries):
    # given: a valid login padded with whitespace past the limit
    body = json.dumps(LOGIN).encode()
    body = body[:-1] + b" " * (MAX_BODY_BYTES - len(body) + 1) + b"}"
    assert len(body) == MAX_BODY_BYTES + 1

    # when
    with django_assert_num_queries(0):
        response = client.post(URL, data=body, content_type="application/json")

    # then
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


def test_a_body_of_exactly_one_mebibyte_is_accepted(client, db):
    # given
    body = json.dumps({"query": "{ __typename }"}).encode()
    body = body[:-1] + b" " * (MAX_BODY_BYTES - len(body)) + b"}"

    # when
    response = client.post(URL, data=body, content_type="application/json")

    # then
    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Query"}


def test_a_declared_length_over_the_limit_is_refused_unread(client, db, django_assert_num_queries):
    # when: the header alone says too much
    with django_assert_num_queries(0):
        response = client.generic(
            "POST", URL, data=b"{}", content_type="application/json", CONTENT_LENGTH=str(MAX_BODY_BYTES + 1)
        )

    # then
    assert response.status_code == 413


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=BoUnDaRy",
        "application/graphql",
        "application/json-patch+json",
        "application/json; charset=latin-1",
        "",
    ],
)
def test_other_content_types_are_refused_with_415(client, world, content_type, django_assert_num_queries):
    # given: a JSON login body under another label (text/plain is a CORS "simple request")
    with django_assert_num_queries(0):
        response = client.generic("POST", URL, data=json.dumps(LOGIN), content_type=content_type)

    # then
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_json_with_a_utf8_charset_is_accepted(client, db):
    # when
    body = json.dumps({"query": "{ __typename }"})
    response = client.post(URL, data=body, content_type="application/json; charset=utf-8")

    # then
    assert response.json()["data"] == {"__typename": "Query"}


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def test_other_methods_are_refused(client, db, method, django_assert_num_queries):
    # when: no CORS preflight headers, so this reaches the view
    with django_assert_num_queries(0):
        response = client.generic(method, URL, data=json.dumps(LOGIN), content_type="application/json")

    # then
    assert response.status_code == 405
    assert response["Allow"] == "POST"


@pytest.mark.parametrize(
    "body",
    [
        b"[]", b'"query"', b"42", b"null", b"\xff\xfe{", b"{", b'{"query": "{ __typename }", "operationName": 7}',
        b'{"query": "{ __typename }", "variables": {"v": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}",
    ],
    ids=["empty batch", "string", "number", "null", "not utf-8", "truncated", "operationName", "nested 100,000 deep"],
)
def test_bodies_that_are_not_one_request_object_are_refused(client, db, body, django_assert_num_queries):
    # when
    with django_assert_num_queries(0):
        response = client.post(URL, data=body, content_type="application/json")

    # then
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
