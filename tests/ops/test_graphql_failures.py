"""Every /graphql/ answer is JSON and `Cache-Control: no-store`, whatever fails (DESIGN.md 5 and 6).

Failures are real: a table the request needs is renamed away, a middleware after the view runs a
query the database rejects. (The database going away entirely, under real gunicorn processes, is
tests/ops/test_database_outage_http.py.)
"""

import json
import logging

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings

from schema.limits import MAX_BODY_BYTES
from tests.schema.test_idempotency_key import ADD, note, post, sign_in

URL = "/graphql/"
ME = "{ me { username } }"


def assert_masked_internal(response, status: int = 500) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    (error,) = response.json()["errors"]
    assert error["message"] == "Internal server error."
    assert error["extensions"] == {"code": "INTERNAL", "requestId": response["X-Request-ID"]}
    return error


def test_a_database_error_while_authenticating_is_json_internal_with_the_request_id(client, world, caplog):
    # given alice's token, and then the user table gone from under the token check
    token = sign_in(client, "alice")
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE users_user RENAME TO users_user_gone")
    caplog.set_level(logging.ERROR, logger="schema.errors")
    # when
    response = post(client, ME, {}, token=token)
    # then the client sees a masked JSON error, and the log keeps the detail under the same id
    assert_masked_internal(response)
    assert "users_user" not in response.content.decode()
    assert response["X-Request-ID"] in caplog.text
    assert "users_user" in caplog.text


class FailingAfterTheView:
    """A middleware whose work after the view fails in the database, as an audit append might."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO no_such_audit_table VALUES (1)")
        return response


AFTER_THE_VIEW = [*settings.MIDDLEWARE, f"{__name__}.FailingAfterTheView"]


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_a_failure_in_a_middleware_after_the_view_is_json_internal(world, debug):
    # given a middleware that fails once the view has answered (DEBUG would render Django's
    # technical HTML page, production its "Server Error (500)")
    token = sign_in(Client(), "alice")
    # when
    with override_settings(MIDDLEWARE=AFTER_THE_VIEW, DEBUG=debug):
        response = post(Client(raise_request_exception=False), ME, {}, token=token)
    # then
    assert_masked_internal(response)
    assert "no_such_audit_table" not in response.content.decode()


def test_a_refusal_by_django_itself_is_json_too(client, db):
    # when a request names a host that is not allowed (Django answers 400 before any view)
    response = client.post(URL, data=json.dumps({"query": ME}), content_type="application/json",
                           HTTP_HOST="evil.example")
    # then
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert [error["extensions"]["code"] for error in response.json()["errors"]] == ["BAD_USER_INPUT"]


def graphql_requests(client, world):
    """One request of each kind of answer /graphql/ gives, by name."""
    token = sign_in(client, "dr.grey")
    body = json.dumps({"query": ME})
    return {
        "success": post(client, ME, {}, token=token),
        "graphql error": post(client, ME, {}),
        "bad token": post(client, ME, {}, token="not-a-token"),
        "stored answer": [post(client, ADD, note(world), token=token, key="k") for _ in range(2)][1],
        "key conflict": post(client, ADD, note(world, "other"), token=token, key="k"),
        "bad key": post(client, ADD, note(world), token=token, key=""),
        "405": client.get(URL),
        "405 put": client.put(URL, data=body, content_type="application/json"),
        "preflight": client.options(URL, HTTP_ORIGIN="https://app.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"),
        "415": client.post(URL, data={"query": ME}),
        "413": client.post(URL, data=b" " * (MAX_BODY_BYTES + 1), content_type="application/json"),
        "400 not json": client.post(URL, data=b"{", content_type="application/json"),
        "400 batch": client.post(URL, data=b"[]", content_type="application/json"),
        "400 no query": client.post(URL, data=b"{}", content_type="application/json"),
    }


def test_every_answer_says_no_store(client, world):
    # when
    answers = graphql_requests(client, world)
    # then
    assert {name: answer.get("Cache-Control") for name, answer in answers.items()} == {
        name: "no-store" for name in answers
    }
    assert answers["stored answer"]["Idempotent-Replayed"] == "true"
    assert answers["key conflict"].status_code == 422
