"""A persisted document never keeps a value in clear (schema/persisted.py, deserves_a_row).

Apollo's link sends values as variables, but a client may write them into the text: a password
in `tokenAuth`, both passwords in `changePassword`, a refresh token, a patient's name in a
search. Registering such a text stored the secret or the PHI in the persisted-documents table
for good. Such documents still run; they are not registered.
"""

import hashlib
import json

import pytest

from persisted.models import PersistedDocument
from persisted.selectors import forget_all
from tests import factories
from tests.conftest import access_token


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def post(client, *, query: str, token: str | None = None, variables: dict | None = None):
    payload = {"query": query, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}}}
    if variables is not None:
        payload["variables"] = variables
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post("/graphql/", data=json.dumps(payload), content_type="application/json", **headers)


@pytest.fixture(autouse=True)
def empty_cache():
    forget_all()
    yield
    forget_all()


def test_a_login_with_the_password_in_the_text_runs_but_is_not_stored(client, db):
    # given alice, whose client writes her password into the document
    factories.make_patient(username="alice")
    login = f'mutation {{ tokenAuth(username: "alice", password: "{factories.PASSWORD}") {{ token }} }}'
    # when it is sent through APQ (text with hash)
    response = post(client, query=login)
    # then she is signed in, and her password is nowhere in the table
    assert response.json()["data"]["tokenAuth"]["token"]
    assert PersistedDocument.objects.count() == 0


def test_a_password_change_with_literals_is_not_stored(client, db):
    # given bob, signed in, changing his password with both values written into the text
    bob = factories.make_patient(username="bob")
    change = (
        f'mutation {{ changePassword(input: {{oldPassword: "{factories.PASSWORD}", '
        'newPassword: "N3w-s3cret-Passw0rd!"}) { token } }'
    )
    # when it is sent through APQ
    response = post(client, query=change, token=access_token(bob.user))
    # then the password is changed, and neither password is stored
    assert response.json()["data"]["changePassword"]["token"]
    assert PersistedDocument.objects.count() == 0


def test_a_default_value_in_the_variables_is_a_literal_too(client, db):
    # given a login whose password is the default of its variable
    factories.make_patient(username="alice")
    login = (
        f'mutation Login($u: String!, $p: String! = "{factories.PASSWORD}") '
        "{ tokenAuth(username: $u, password: $p) { token } }"
    )
    # when it is sent through APQ with only the username as a variable
    response = post(client, query=login, variables={"u": "alice"})
    # then it ran, and was not stored
    assert response.json()["data"]["tokenAuth"]["token"]
    assert PersistedDocument.objects.count() == 0


def test_the_same_login_with_variables_is_stored(client, db):
    # given the login as Apollo's link sends it: values in the variables
    factories.make_patient(username="alice")
    login = "mutation Login($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token } }"
    # when it is sent through APQ
    response = post(client, query=login, variables={"u": "alice", "p": factories.PASSWORD})
    # then it ran and its text (which holds no value) is registered
    assert response.json()["data"]["tokenAuth"]["token"]
    assert list(PersistedDocument.objects.values_list("text", flat=True)) == [login]
