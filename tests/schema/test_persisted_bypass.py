"""A hash-only request is checked like the text it stands for (schema/persisted.py resolve).

A document registered by a signed-in caller is in the shared table for everyone; naming it by
hash must not skip the anonymous check (public operations only) or the limits that depend on
the request's variables (`first` at most 100).
"""

import hashlib
import json

import pytest

from persisted.models import PersistedDocument
from persisted.selectors import forget_all
from tests import factories
from tests.conftest import access_token

PATIENTS = "query Patients($n: Int) { patients(first: $n) { edges { node { fullName } } } }"
SHA = hashlib.sha256(PATIENTS.encode()).hexdigest()


def post(client, *, query=None, variables=None, token=None):
    payload: dict = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": SHA}}}
    if query is not None:
        payload["query"] = query
    if variables is not None:
        payload["variables"] = variables
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post("/graphql/", data=json.dumps(payload), content_type="application/json", **headers)


@pytest.fixture
def registered_by_staff(client, db):
    forget_all()
    staff = factories.make_staff()
    factories.make_patient(username="alice")
    token = access_token(staff)
    first = post(client, query=PATIENTS, variables={"n": 5}, token=token)
    assert first.json()["data"]["patients"]["edges"]  # it ran for staff, and so was registered
    assert PersistedDocument.objects.filter(sha256=SHA).exists()
    yield token
    forget_all()


def test_an_anonymous_caller_cannot_run_a_private_document_by_its_hash(client, registered_by_staff):
    # when a caller who has not signed in names the staff's registered document by hash
    response = post(client, variables={"n": 5})
    # then the anonymous check refuses it as if the text had been sent: no data, nothing named
    body = response.json()
    assert body.get("data") is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]
    assert "patients" not in json.dumps(body["errors"]) and "fullName" not in json.dumps(body["errors"])


def test_the_page_size_limit_applies_to_a_document_named_by_hash(client, registered_by_staff):
    # when the staff member names the registered document by hash with first: 1000
    response = post(client, variables={"n": 1000}, token=registered_by_staff)
    # then the page-size limit refuses it as for the text
    body = response.json()
    assert body.get("data") is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["QUERY_TOO_COMPLEX"]
