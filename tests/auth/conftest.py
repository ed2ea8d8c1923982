"""Helpers for the session tests: the GraphQL documents an SPA sends to sign in and out."""

import pytest

from tests import factories
from users.models import User

TOKEN_AUTH = """
mutation ($username: String!, $password: String!) {
  tokenAuth(username: $username, password: $password) {
    token refreshToken refreshExpiresIn csrfToken payload user { username }
  }
}
"""
REFRESH = """
mutation ($refreshToken: String) {
  refreshToken(refreshToken: $refreshToken) { token refreshToken refreshExpiresIn csrfToken payload }
}
"""
REVOKE = "mutation ($refreshToken: String) { revokeToken(refreshToken: $refreshToken) { revoked } }"
ME = "{ me { username } }"


@pytest.fixture
def member(db) -> User:
    """A signed-up user with the factories' password."""
    return factories.make_patient(username="member").user


def login(gql, username: str, password: str = factories.PASSWORD, **kwargs):
    return gql.execute(TOKEN_AUTH, {"username": username, "password": password}, **kwargs)


def login_ok(gql, username: str, password: str = factories.PASSWORD, **kwargs) -> dict:
    result = login(gql, username, password, **kwargs)
    assert result.errors == [], result.errors
    return result.data["tokenAuth"]


def refresh(gql, refresh_token: str | None, **kwargs):
    return gql.execute(REFRESH, {"refreshToken": refresh_token}, **kwargs)
