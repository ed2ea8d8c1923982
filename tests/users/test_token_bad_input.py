"""Bad input to tokenAuth, refreshToken and revokeToken: the right code, no session written."""

import pytest

from tests import factories
from users.token_library import get_refresh_token_model

TOKEN_AUTH = """
mutation ($username: String!, $password: String!) { tokenAuth(username: $username, password: $password) { token } }
"""
REFRESH = "mutation ($token: String) { refreshToken(refreshToken: $token) { token } }"
REVOKE = "mutation ($token: String) { revokeToken(refreshToken: $token) { revoked } }"
TOO_LONG = "x" * 10_001


def sessions():
    return list(get_refresh_token_model().objects.order_by("pk").values_list("pk", "revoked"))


@pytest.fixture
def patient(db):
    return factories.make_patient(username="alice")


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("", ""),
        ("alice", ""),
        ("", factories.PASSWORD),
        ("   ", "   "),
        (TOO_LONG, factories.PASSWORD),
        ("alice", TOO_LONG),
        ("alice", factories.PASSWORD + " "),
        ("nobody", factories.PASSWORD),
    ],
)
def test_token_auth_with_bad_credentials(gql, patient, username, password):
    # given
    before = sessions()
    # when
    result = gql.execute(TOKEN_AUTH, {"username": username, "password": password})
    # then one answer for every failure, which says nothing about the username
    assert result.codes == ["UNAUTHENTICATED"]
    assert result.errors[0]["message"] == "Invalid username or password."
    assert result.data is None
    assert sessions() == before


@pytest.mark.parametrize(
    "variables",
    [{}, {"username": "alice"}, {"username": None, "password": "x"}, {"username": "alice", "password": 12345678}],
)
def test_token_auth_with_missing_or_mistyped_arguments(gql, patient, variables):
    # given
    before = sessions()
    # when
    result = gql.execute(TOKEN_AUTH, variables)
    # then
    assert result.codes and set(result.codes) == {"BAD_USER_INPUT"}
    assert result.data is None
    assert "12345678" not in str(result.body)  # a password is never echoed
    assert sessions() == before


@pytest.mark.parametrize("mutation", [REFRESH, REVOKE])
@pytest.mark.parametrize("token", [None, "", "   ", "garbage", TOO_LONG, "0" * 64])
def test_refresh_and_revoke_with_a_bad_refresh_token(gql, patient, mutation, token):
    # given a live session that must survive
    login = gql.execute(
        'mutation ($p: String!) { tokenAuth(username: "alice", password: $p) { refreshToken } }',
        {"p": factories.PASSWORD},
    )
    assert login.errors == []
    before = sessions()
    # when
    variables = {} if token is None else {"token": token}
    result = gql.execute(mutation, variables)
    # then
    assert result.codes == ["TOKEN_INVALID"]
    assert result.data is None
    assert sessions() == before
    assert all(revoked is None for _, revoked in before)


@pytest.mark.parametrize("mutation", [REFRESH, REVOKE])
def test_refresh_and_revoke_with_a_mistyped_refresh_token(gql, patient, mutation):
    # when
    result = gql.execute(mutation, {"token": 123})
    # then
    assert result.codes == ["BAD_USER_INPUT"]
    fields = result.errors[0]["extensions"]["fields"]
    assert fields == {"token": ["String cannot represent a non string value: (redacted)"]}
    assert result.data is None
