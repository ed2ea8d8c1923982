"""The body is UTF-8 JSON (RFC 8259); anything else is refused before any work (schema/views.py)."""

import json

URL = "/graphql/"


def test_a_utf16_body_is_refused_as_invalid_json(client, db, django_assert_num_queries):
    # given: valid JSON, but encoded as UTF-16 (json.loads of bytes alone would accept it)
    body = json.dumps({"query": "{ __typename }"}).encode("utf-16")

    # when
    with django_assert_num_queries(0):
        response = client.post(URL, data=body, content_type="application/json")

    # then
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_utf8_body_with_a_byte_order_mark_is_accepted(client, db):
    # when
    body = b"\xef\xbb\xbf" + json.dumps({"query": "{ __typename }"}).encode()
    response = client.post(URL, data=body, content_type="application/json")

    # then
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}
