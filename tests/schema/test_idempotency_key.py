"""Idempotency-Key on mutations (draft-ietf-httpapi-idempotency-key-header; DESIGN.md section 5).

A mutation sent with a key runs once per user and key; a retry with the same body gets the stored
answer (same status, same bytes), another body CONFLICT (422). Keys live 24 hours.
"""

import json
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import Client

from idempotency.models import IdempotencyKey
from records.models import Annotation, HealthRecord
from tests import factories
from tests.conftest import global_id, record_updates_refused_quoting_allergies, requires_postgres

ADD = "mutation Add($input: AddAnnotationInput!) { addAnnotation(input: $input) { id body createdAt } }"
UPDATE = "mutation ($input: UpdateHealthRecordInput!) { updateHealthRecord(input: $input) { allergies } }"
LOGIN = "mutation ($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token } }"


def sign_in(client, username: str) -> str:
    """An access token the way a client gets one: tokenAuth."""
    response = post(client, LOGIN, {"u": username, "p": factories.PASSWORD})
    return response.json()["data"]["tokenAuth"]["token"]


def post(client, query: str, variables: dict, *, token: str | None = None, key: str | None = None):
    headers = {}
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    body = json.dumps({"query": query, "variables": variables})
    return client.post("/graphql/", data=body, content_type="application/json", **headers)


def note(world, body: str = "BP 120/80.") -> dict:
    return {"input": {"recordId": global_id("HealthRecord", world.alice.health_record.pk), "body": body}}


def test_a_retried_annotation_with_the_same_key_is_made_once_and_answered_identically(client, world):
    # given dr. grey's first attempt
    token = sign_in(client, "dr.grey")
    first = post(client, ADD, note(world), token=token, key="9b1f6c3e-annotation-1")
    # when the client retries with the same key and body (say the first answer was lost)
    retry = post(client, ADD, note(world), token=token, key="9b1f6c3e-annotation-1")
    # then one annotation exists and the retry got the first answer, byte for byte
    assert first.status_code == retry.status_code == 200
    assert first.json()["data"]["addAnnotation"]["body"] == "BP 120/80."
    assert retry.content == first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Annotation.objects.count() == 1


def test_the_same_key_with_another_body_is_a_conflict_and_writes_nothing(client, world):
    # given
    token = sign_in(client, "dr.grey")
    post(client, ADD, note(world, "First note."), token=token, key="key-1")
    # when the key is reused for another note
    reused = post(client, ADD, note(world, "Another note."), token=token, key="key-1")
    # then
    assert reused.status_code == 422
    body = reused.json()
    assert [error["extensions"]["code"] for error in body["errors"]] == ["CONFLICT"]
    assert "Another note." not in reused.content.decode()
    assert list(Annotation.objects.values_list("body", flat=True)) == ["First note."]


def test_the_draft_s_quoted_form_of_the_key_is_the_same_key(client, world):
    # given a key sent bare
    token = sign_in(client, "dr.grey")
    first = post(client, ADD, note(world), token=token, key="abc-123")
    # when it is retried as an RFC 8941 string, as the draft writes it
    retry = post(client, ADD, note(world), token=token, key='"abc-123"')
    # then
    assert retry.content == first.content
    assert Annotation.objects.count() == 1


def test_two_users_may_use_the_same_key_independently(client, world):
    # given alice and bob, each sending the same key
    alice, bob = sign_in(client, "alice"), sign_in(client, "bob")
    # when
    for_alice = post(client, UPDATE, {"input": {"allergies": "dust"}}, token=alice, key="same-key")
    for_bob = post(client, UPDATE, {"input": {"allergies": "dust"}}, token=bob, key="same-key")
    # then both ran, each on their own record, and neither got the other's answer
    assert for_alice.json() == for_bob.json() == {"data": {"updateHealthRecord": {"allergies": "dust"}}}
    assert "Idempotent-Replayed" not in for_bob
    assert HealthRecord.objects.filter(allergies="dust").count() == 2
    assert IdempotencyKey.objects.filter(key="same-key").count() == 2


def test_a_key_expires_after_24_hours_and_may_then_be_used_again(client, world):
    # given a note sent with a key
    with time_machine.travel("2026-03-01 09:00Z", tick=False):
        post(client, ADD, note(world, "Morning note."), token=sign_in(client, "dr.grey"), key="daily")
    # when, just before 24 hours, the key is reused with another body, and again just after
    with time_machine.travel("2026-03-02 08:59:59Z", tick=False):
        before = post(client, ADD, note(world, "Next day."), token=sign_in(client, "dr.grey"), key="daily")
    with time_machine.travel("2026-03-02 09:00:01Z", tick=False):
        after = post(client, ADD, note(world, "Next day."), token=sign_in(client, "dr.grey"), key="daily")
    # then before it is a conflict, after it runs as a new request
    assert before.status_code == 422
    assert after.status_code == 200
    assert after.json()["data"]["addAnnotation"]["body"] == "Next day."
    assert sorted(Annotation.objects.values_list("body", flat=True)) == ["Morning note.", "Next day."]
    # and the expired row was purged on the way (the user's own expired keys go with each new one)
    assert IdempotencyKey.objects.count() == 1


def test_the_purge_command_deletes_expired_keys_only(client, world, capsys):
    # given one key from yesterday and one from now
    with time_machine.travel("2026-03-01 09:00Z", tick=False):
        post(client, ADD, note(world, "Old."), token=sign_in(client, "dr.grey"), key="old")
    with time_machine.travel("2026-03-02 10:00Z", tick=False):
        post(client, UPDATE, {"input": {"allergies": "dust"}}, token=sign_in(client, "alice"), key="new")
        # when
        call_command("purge_idempotency_keys")
    # then
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
    assert "Deleted 1 expired idempotency keys." in capsys.readouterr().out


@pytest.mark.parametrize(
    "key",
    ["", '""', "k" * 256, "clé", "key\twith-tab", '"unterminated', 'in"side'],
    ids=["empty", "empty-quoted", "256-chars", "non-ascii", "control-char", "bad-quoting", "inner-quote"],
)
def test_a_malformed_key_is_bad_user_input_and_nothing_runs(client, world, key):
    # given
    token = sign_in(client, "dr.grey")
    # when
    response = post(client, ADD, note(world), token=token, key=key)
    # then
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [error["extensions"]["code"] for error in errors] == ["BAD_USER_INPUT"]
    assert list(errors[0]["extensions"]["fields"]) == ["idempotencyKey"]
    assert response["Cache-Control"] == "no-store"
    assert Annotation.objects.count() == 0
    assert IdempotencyKey.objects.count() == 0


def test_a_key_of_255_characters_is_accepted(client, world):
    # when
    response = post(client, ADD, note(world), token=sign_in(client, "dr.grey"), key="k" * 255)
    # then
    assert response.json()["data"]["addAnnotation"]["body"] == "BP 120/80."
    assert IdempotencyKey.objects.get().key == "k" * 255


def test_a_query_ignores_the_key(client, world):
    # when a query is sent with a key, twice
    token = sign_in(client, "alice")
    for _ in range(2):
        response = post(client, "{ me { username } }", {}, token=token, key="q-1")
        # then it runs each time and nothing is stored
        assert response.json() == {"data": {"me": {"username": "alice"}}}
        assert "Idempotent-Replayed" not in response
    assert IdempotencyKey.objects.count() == 0


def test_anonymous_callers_and_credential_answers_are_never_stored(client, world):
    # when an anonymous client signs in with a key, twice
    login = {"u": "alice", "p": factories.PASSWORD}
    first = post(client, LOGIN, login, key="login-1")
    second = post(client, LOGIN, login, key="login-1")
    # then each sign-in ran (two different tokens) and no token was written to the key table
    assert first.json()["data"]["tokenAuth"]["token"] != second.json()["data"]["tokenAuth"]["token"]
    # when a signed-in user sends a mutation whose answer holds a credential (behind an alias)
    change = (
        "mutation ($input: ChangePasswordInput!) { fresh: changePassword(input: $input) { t: token } }"
    )
    password = {"input": {"oldPassword": factories.PASSWORD, "newPassword": "a-new-long-passphrase-2026"}}
    changed = post(client, change, password, token=sign_in(client, "bob"), key="change-1")
    # then it ran, and nothing was stored
    assert changed.json()["data"]["fresh"]["t"]
    assert IdempotencyKey.objects.count() == 0


def test_an_error_answer_is_stored_like_any_other(client, world):
    # given dr. house, not assigned to alice
    token = sign_in(client, "dr.house")
    first = post(client, ADD, note(world), token=token, key="denied-1")
    # when he retries after being assigned
    factories.assign(doctor=world.house, patient=world.alice)
    retry = post(client, ADD, note(world), token=token, key="denied-1")
    # then the retry gets the first answer (NOT_FOUND), as the draft asks: a new attempt needs a new key
    assert first.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert retry.content == first.content
    assert Annotation.objects.count() == 0


def test_what_a_keyed_mutation_and_its_replay_cost(client, world, django_assert_num_queries):
    # given
    token = sign_in(client, "dr.grey")
    plain = post(client, ADD, note(world, "Unkeyed."), token=token)
    assert plain.status_code == 200
    # when / then: a first run costs its mutation plus 6 statements: look the key up, purge the
    # user's expired keys, insert the key, store the answer, and the savepoint and release around them
    with django_assert_num_queries(count_of(client, ADD, note(world, "Measure."), token)[0] + 6):
        post(client, ADD, note(world, "Keyed."), token=token, key="cost-1")
    # and a replay is the token check plus one read, whatever the mutation
    with django_assert_num_queries(2):
        replay = post(client, ADD, note(world, "Keyed."), token=token, key="cost-1")
    assert replay["Idempotent-Replayed"] == "true"


def count_of(client, query, variables, token) -> tuple[int, object]:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = post(client, query, variables, token=token)
    return len(captured), response


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_an_internal_failure_is_rolled_back_and_not_stored_so_the_retry_runs(world):
    # given alice, and a database that refuses record updates (a real PostgreSQL error)
    client = Client()
    token = sign_in(client, "alice")
    with record_updates_refused_quoting_allergies():
        # when she updates with a key
        failed = post(client, UPDATE, {"input": {"allergies": "pollen"}}, token=token, key="retry-me")
    # then she is told INTERNAL, nothing is claimed done, nothing is stored
    assert failed.json()["data"] is None
    assert [error["extensions"]["code"] for error in failed.json()["errors"]] == ["INTERNAL"]
    assert IdempotencyKey.objects.count() == 0
    # when she retries once the database accepts updates again
    retry = post(client, UPDATE, {"input": {"allergies": "pollen"}}, token=token, key="retry-me")
    # then it runs
    assert retry.json() == {"data": {"updateHealthRecord": {"allergies": "pollen"}}}
    assert "Idempotent-Replayed" not in retry
    assert HealthRecord.objects.get(patient=world.alice).allergies == "pollen"


def test_stored_answers_expire_24_hours_after_the_first_request(client, world):
    # given
    with time_machine.travel("2026-03-01 09:00Z", tick=False):
        post(client, ADD, note(world), token=sign_in(client, "dr.grey"), key="ttl")
    # then
    stored = IdempotencyKey.objects.get()
    assert stored.expires_at - stored.created_at == timedelta(hours=24)


def test_a_single_page_app_on_another_origin_may_send_the_key_and_read_the_replay_flag(client, world, settings):
    # given an SPA origin granted CORS
    settings.CORS_ALLOWED_ORIGINS = ["https://app.clinic.example"]
    origin = {"HTTP_ORIGIN": "https://app.clinic.example"}
    # when the browser asks whether it may send Idempotency-Key, then sends a keyed mutation twice
    preflight = client.options(
        "/graphql/", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key", **origin,
    )
    token = sign_in(client, "dr.grey")
    body = json.dumps({"query": ADD, "variables": note(world)})
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_IDEMPOTENCY_KEY": "spa-1", **origin}
    client.post("/graphql/", data=body, content_type="application/json", **headers)
    replay = client.post("/graphql/", data=body, content_type="application/json", **headers)
    # then the header is allowed, and the replay flag readable by the page's script
    assert "idempotency-key" in preflight["Access-Control-Allow-Headers"]
    assert "idempotent-replayed" in replay["Access-Control-Expose-Headers"]
    assert replay["Idempotent-Replayed"] == "true"
