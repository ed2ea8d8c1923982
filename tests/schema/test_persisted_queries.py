"""Apollo's automatic persisted queries (APQ) over /graphql/ (DESIGN.md section 6, issue 15).

A hash alone runs the registered document or answers PERSISTED_QUERY_NOT_FOUND; the hash with
the text registers it (after checking the hash, and only if the document would run for its
sender) and runs it. Limits, introspection and the anonymous rules apply to the text as usual.
"""

import hashlib
import json

import pytest

from persisted.models import PersistedDocument
from persisted.selectors import forget_all
from records.models import Annotation
from schema.persisted import MAX_DOCUMENT_CHARS
from tests import factories
from tests.conftest import access_token, global_id

ME = "query Me { me { username role } }"
LOGIN = "mutation Login($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token } }"
ADD = "mutation Add($input: AddAnnotationInput!) { addAnnotation(input: $input) { id body } }"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def post(client, *, query=None, sha=None, version=1, variables=None, token=None, key=None):
    payload: dict = {}
    if query is not None:
        payload["query"] = query
    if sha is not None:
        payload["extensions"] = {"persistedQuery": {"version": version, "sha256Hash": sha}}
    if variables is not None:
        payload["variables"] = variables
    headers = {}
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post("/graphql/", data=json.dumps(payload), content_type="application/json", **headers)


@pytest.fixture(autouse=True)
def empty_cache():
    forget_all()  # the per-process LRU outlives each test's rolled-back rows
    yield
    forget_all()


def error(response) -> tuple[str, str]:
    first = response.json()["errors"][0]
    return first["message"], first["extensions"]["code"]


def test_an_unknown_hash_is_not_found_with_apollos_message_and_code(client, db):
    # when a client sends a hash the server has never seen
    response = post(client, sha=sha256(ME), token=access_token(factories.make_patient(username="alice").user))
    # then Apollo's link recognises the answer (message or code) and retries with the text
    assert response.status_code == 404
    assert error(response) == ("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")


def test_hash_with_text_registers_then_the_hash_alone_runs_it(client, db):
    # given alice, and her client sending ME with its hash (the link's retry after NOT_FOUND)
    token = access_token(factories.make_patient(username="alice").user)
    first = post(client, query=ME, sha=sha256(ME), token=token)
    # when the next request sends the hash only
    second = post(client, sha=sha256(ME), token=token)
    # then both ran the document, and it is stored once, under its hash
    assert first.json() == second.json() == {"data": {"me": {"username": "alice", "role": "PATIENT"}}}
    assert list(PersistedDocument.objects.values_list("sha256", "text")) == [(sha256(ME), ME)]


def test_a_registered_document_is_found_by_another_process(client, db):
    # given a document registered by some instance (the row, with this process's cache empty)
    token = access_token(factories.make_patient(username="alice").user)
    post(client, query=ME, sha=sha256(ME), token=token)
    forget_all()
    # when the hash alone comes here
    response = post(client, sha=sha256(ME), token=token)
    # then it is read from the table
    assert response.json()["data"]["me"]["username"] == "alice"


def test_a_hash_that_is_not_the_texts_is_refused_and_nothing_is_stored(client, db):
    # when the text comes with another document's hash
    response = post(client, query=ME, sha=sha256("{ me { id } }"), token=access_token(factories.make_patient().user))
    # then BAD_USER_INPUT, as Apollo Server answers it
    assert response.status_code == 400
    assert error(response) == ("provided sha does not match query", "BAD_USER_INPUT")
    assert PersistedDocument.objects.count() == 0


@pytest.mark.parametrize("version", [2, 0, "1", None])
def test_another_protocol_version_is_not_supported(client, db, version):
    # when the persistedQuery extension names a version other than 1
    response = post(
        client, query=ME, sha=sha256(ME), version=version, token=access_token(factories.make_patient().user)
    )
    # then PERSISTED_QUERY_NOT_SUPPORTED (on which Apollo's link stops hashing)
    assert response.status_code == 400
    assert error(response) == ("PersistedQueryNotSupported", "PERSISTED_QUERY_NOT_SUPPORTED")


def test_an_anonymous_caller_registers_the_public_login_and_it_runs_by_hash(client, db):
    # given a patient who has not signed in yet
    factories.make_patient(username="alice")
    variables = {"u": "alice", "p": factories.PASSWORD}
    # when her client logs in through APQ: text with hash, then the hash alone
    first = post(client, query=LOGIN, sha=sha256(LOGIN), variables=variables)
    second = post(client, sha=sha256(LOGIN), variables=variables)
    # then both signed her in and the public document was registered
    assert first.json()["data"]["tokenAuth"]["token"]
    assert second.json()["data"]["tokenAuth"]["token"]
    assert PersistedDocument.objects.filter(sha256=sha256(LOGIN)).exists()


@pytest.mark.parametrize(
    "document",
    [
        "{ me { username } }",  # a private field, from a caller who has not signed in
        "{ __schema { types { name } } }",  # introspection, signed out
        "{ patientz { id } }",  # not in the schema at all
    ],
)
def test_an_anonymous_caller_cannot_register_what_would_not_run_for_her(client, db, document):
    # when a signed-out caller sends a private, introspecting or invalid document with its hash
    response = post(client, query=document, sha=sha256(document))
    # then it is refused as without APQ, and the store is left alone
    assert response.json()["errors"][0]["extensions"]["code"] in {"UNAUTHENTICATED", "BAD_USER_INPUT"}
    assert PersistedDocument.objects.count() == 0


def test_a_document_over_the_limits_is_refused_and_not_registered(client, db):
    # given a signed-in doctor and a document nested deeper than the limit (depth 10)
    token = access_token(factories.make_doctor().user)
    deep = "{ me { " + "healthRecord { patient { " * 6 + "id" + " } }" * 6 + " } }"
    # when it is sent with its hash
    response = post(client, query=deep, sha=sha256(deep), token=token)
    # then QUERY_TOO_COMPLEX, and nothing is stored
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert PersistedDocument.objects.count() == 0


def test_a_document_longer_than_the_cap_runs_but_is_not_stored(client, db):
    # given a valid document padded with whitespace past MAX_DOCUMENT_CHARS
    token = access_token(factories.make_patient(username="alice").user)
    padded = ME + " " * MAX_DOCUMENT_CHARS
    # when it is sent with its hash
    response = post(client, query=padded, sha=sha256(padded), token=token)
    # then it runs (it is within the limits) but takes no room in the store
    assert response.json()["data"]["me"]["username"] == "alice"
    assert PersistedDocument.objects.count() == 0


def test_a_persisted_mutation_with_an_idempotency_key_runs_once(client, world):
    # given dr. grey's annotation, registered by APQ with an Idempotency-Key
    token = access_token(world.grey.user)
    variables = {"input": {"recordId": global_id("HealthRecord", world.alice.health_record.pk), "body": "BP ok."}}
    first = post(client, query=ADD, sha=sha256(ADD), variables=variables, token=token, key="apq-annotation-1")
    # when the client retries the same mutation by hash only, with the same key
    retry = post(client, sha=sha256(ADD), variables=variables, token=token, key="apq-annotation-1")
    # then the key applied to the persisted mutation: one annotation, the retry is a replay
    assert first.json()["data"]["addAnnotation"]["body"] == "BP ok."
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.content == first.content
    assert Annotation.objects.count() == 1
