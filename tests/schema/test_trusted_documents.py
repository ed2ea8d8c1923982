"""TRUSTED_DOCUMENTS_ONLY=1: only the manifest's documents run (DESIGN.md section 6, issue 15).

The manifest is Apollo's persisted-query manifest, built by `manage.py build_trusted_documents`
from the clients' `.graphql` operations (clients/operations/).
"""

import hashlib
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from persisted.models import PersistedDocument
from persisted.selectors import forget_all
from tests import factories
from tests.conftest import access_token

OPERATIONS = sorted(str(path) for path in (Path(__file__).parents[2] / "clients" / "operations").glob("*.graphql"))
COMMITTED_MANIFEST = Path(__file__).parents[2] / "clients" / "trusted-documents.json"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def build(tmp_path, *files: str, **options) -> dict:
    output = tmp_path / "manifest.json"
    call_command("build_trusted_documents", *files, output=str(output), **options)
    return json.loads(output.read_text())


def operation_file(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.fixture
def trusted(settings, tmp_path):
    """The API in trusted-documents mode with the manifest of clients/operations/."""
    forget_all()
    manifest = build(tmp_path, *OPERATIONS)
    settings.TRUSTED_DOCUMENTS_ONLY = True
    settings.TRUSTED_DOCUMENTS_MANIFEST = str(tmp_path / "manifest.json")
    yield {operation["name"]: operation for operation in manifest["operations"]}
    forget_all()


def post(client, payload: dict, token: str | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post("/graphql/", data=json.dumps(payload), content_type="application/json", **headers)


def by_hash(sha: str, **payload) -> dict:
    return {**payload, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}}


def test_a_manifest_operation_runs_by_its_hash(client, db, trusted):
    # given alice, signed in
    token = access_token(factories.make_patient(username="alice").user)
    # when her client names the manifest's Me by its id only
    response = post(client, by_hash(trusted["Me"]["id"]), token)
    # then it runs
    assert response.json()["data"]["me"]["username"] == "alice"


def test_a_manifest_operation_sent_in_full_runs(client, db, trusted):
    # given a patient who has not signed in yet
    factories.make_patient(username="alice")
    # when the manifest's Login comes as plain text (no persistedQuery extension)
    variables = {"username": "alice", "password": factories.PASSWORD}
    response = post(client, {"query": trusted["Login"]["body"], "variables": variables})
    # then it runs
    assert response.json()["data"]["tokenAuth"]["token"]


@pytest.mark.parametrize("with_hash", [False, True])
def test_any_other_document_is_not_found_and_nothing_is_registered(client, db, trusted, with_hash):
    # given a signed-in patient and a valid document that is not in the manifest
    token = access_token(factories.make_patient(username="alice").user)
    other = "query Mine { me { username } }"
    payload = by_hash(sha256(other), query=other) if with_hash else {"query": other}
    # when it is sent, as text or as APQ's text with hash
    response = post(client, payload, token)
    # then PERSISTED_QUERY_NOT_FOUND, and it did not become trusted by being sent
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert "data" not in response.json()
    assert PersistedDocument.objects.count() == 0


def test_a_document_registered_by_apq_is_still_refused_in_trusted_mode(client, db, trusted):
    # given a document some instance registered by APQ (before the switch, say)
    token = access_token(factories.make_patient(username="alice").user)
    other = "query Mine { me { username } }"
    PersistedDocument.objects.create(sha256=sha256(other), text=other)
    # when its hash comes
    response = post(client, by_hash(sha256(other)), token)
    # then only the manifest counts
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


def test_the_manifest_ids_are_the_sha256_of_the_bodies_apollo_client_sends(tmp_path, db):
    # when the command builds the manifest of one operation
    path = operation_file(tmp_path, "Me.graphql", "# who\nquery Me { me { id role } }\n")
    manifest = build(tmp_path, path)
    # then the body is graphql-js's print with Apollo's __typename below the root, and the id its hash
    assert manifest["format"] == "apollo-persisted-query-manifest" and manifest["version"] == 1
    [operation] = manifest["operations"]
    assert operation["body"] == "query Me {\n  me {\n    id\n    role\n    __typename\n  }\n}"
    assert operation["id"] == sha256(operation["body"])
    assert (operation["name"], operation["type"]) == ("Me", "query")


def test_an_operation_takes_along_the_fragments_it_spreads(tmp_path, db):
    # given a fragment in one file and an operation spreading it in another
    fragment = operation_file(
        tmp_path, "a.graphql", "fragment Who on User { username }\nfragment Unused on User { id }"
    )
    query = operation_file(tmp_path, "b.graphql", "query Me { me { ...Who } }")
    # when the manifest is built
    [operation] = build(tmp_path, fragment, query, no_add_typename=True)["operations"]
    # then the body holds the operation and the fragment it uses, not the others
    assert operation["body"] == "query Me {\n  me {\n    ...Who\n  }\n}\n\nfragment Who on User {\n  username\n}"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"a.graphql": "query Me { me { id } }", "b.graphql": "query Me { me { role } }"}, "unique: Me"),
        ({"a.graphql": "{ me { id } }"}, "needs a name"),
        ({"a.graphql": "query Me { me { nope } }"}, "Cannot query field 'nope'"),
        ({"a.graphql": "query Me { me { " + "patient { healthRecord { " * 6 + "id" + " } }" * 6 + " } }"}, "depth"),
        ({"a.graphql": "query Me { me { id }"}, "Syntax Error"),
    ],
)
def test_the_command_refuses_operations_that_could_not_run(tmp_path, db, files, message):
    # given operation files with a duplicate name, an anonymous, invalid, too deep or broken operation
    paths = [operation_file(tmp_path, name, text) for name, text in files.items()]
    # when the manifest is built, then the command fails and says why
    with pytest.raises(CommandError, match=message):
        build(tmp_path, *paths)
    assert not (tmp_path / "manifest.json").exists()


def test_the_committed_manifest_is_built_from_the_committed_operations(tmp_path, db):
    # when the manifest is rebuilt from clients/operations/
    rebuilt = build(tmp_path, *OPERATIONS)
    # then it equals the committed one (run the command of docs/clients.md after editing an operation)
    assert json.loads(COMMITTED_MANIFEST.read_text()) == rebuilt
