"""JWT basics over GraphQL: login, Bearer-only access tokens, expiry, claims, rotation and logout."""

import datetime

import jwt
import pytest
import time_machine
from django.conf import settings

from tests import factories
from users.token_library import access_token_claims, jwt_settings

LOGIN = """
mutation ($username: String!, $password: String!) {
  tokenAuth(username: $username, password: $password) { token refreshToken payload user { username role } }
}
"""
ME = "{ me { username role } }"
REFRESH = "mutation ($token: String) { refreshToken(refreshToken: $token) { token refreshToken user { username } } }"
REVOKE = "mutation ($token: String) { revokeToken(refreshToken: $token) { revoked } }"


@pytest.fixture
def alice(db):
    return factories.make_patient(username="alice").user


def login(gql, username="alice", password=factories.PASSWORD) -> dict:
    result = gql.execute(LOGIN, {"username": username, "password": password})
    assert result.errors == []
    return result.data["tokenAuth"]


def me_with(gql, token: str, scheme: str = "Bearer"):
    return gql.execute(ME, headers={"HTTP_AUTHORIZATION": f"{scheme} {token}"})


def forged(token: str, key: str | None = None, **claims) -> str:
    payload = {**access_token_claims(token), **claims}
    return jwt.encode(payload, key or settings.JWT_SECRET_KEY, algorithm="HS256")


def test_token_auth_answers_tokens_and_the_user(gql, alice):
    # when
    data = login(gql)
    # then
    assert data["user"] == {"username": "alice", "role": "PATIENT"}
    assert data["token"] and data["refreshToken"] and data["token"] != data["refreshToken"]
    claims = data["payload"]
    assert (claims["username"], claims["aud"], claims["iss"]) == ("alice", "clinic-api", "clinic-api")
    assert claims["exp"] - claims["origIat"] == 300  # five minutes


@pytest.mark.parametrize("scheme", ["Bearer", "JWT", "bearer"])
def test_the_access_token_is_accepted_in_the_authorization_header(gql, alice, scheme):
    # given
    token = login(gql)["token"]
    # when
    result = me_with(gql, token, scheme)
    # then
    assert result.errors == []
    assert result.data == {"me": {"username": "alice", "role": "PATIENT"}}


def test_a_token_in_a_cookie_is_ignored(gql, client, alice):
    # given the token only in graphql_jwt's cookie
    token = login(gql)["token"]
    client.cookies[jwt_settings.JWT_COOKIE_NAME] = token
    # when
    result = gql.execute(ME)
    # then
    assert result.codes == ["UNAUTHENTICATED"]
    assert result.data is None


def test_a_token_in_the_query_string_or_the_variables_is_ignored(gql, client, alice):
    # given
    token = login(gql)["token"]
    # when
    response = client.post(
        f"/graphql/?token={token}&JWT={token}",
        data={"query": ME, "variables": {"token": token}},
        content_type="application/json",
    )
    # then
    body = response.json()
    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Basic dXNlcjpwYXNz", "Token abc"])
def test_a_malformed_authorization_header_is_token_invalid(gql, alice, header):
    # when
    result = gql.execute(ME, headers={"HTTP_AUTHORIZATION": header})
    # then
    assert result.codes == ["TOKEN_INVALID"]
    assert result.data is None


def test_the_access_token_lives_five_minutes(gql, alice):
    # given a token issued now
    start = datetime.datetime.now(tz=datetime.UTC)
    with time_machine.travel(start, tick=False):
        token = login(gql)["token"]
    # when it is used within its life, and after it (plus the 10 s leeway)
    with time_machine.travel(start + datetime.timedelta(minutes=4, seconds=59), tick=False):
        alive = me_with(gql, token)
    with time_machine.travel(start + datetime.timedelta(minutes=5, seconds=11), tick=False):
        dead = me_with(gql, token)
    # then
    assert alive.data == {"me": {"username": "alice", "role": "PATIENT"}}
    assert dead.codes == ["TOKEN_EXPIRED"]
    assert dead.data is None


def without(token: str, claim: str) -> str:
    """The token's claims less one, signed with the real key: only the claim is wrong."""
    payload = {key: value for key, value in access_token_claims(token).items() if key != claim}
    return jwt.encode(payload, settings.JWT_SECRET_KEY, algorithm="HS256")


@pytest.mark.parametrize("claim", ["exp", "aud", "iss", "sid"])
def test_a_signed_token_without_a_required_claim_is_token_invalid(gql, alice, claim):
    # given a genuine token, and the same claims less one, correctly signed
    token = login(gql)["token"]
    assert me_with(gql, without(token, "origIat")).errors == []  # a claim we do not require
    # when
    result = me_with(gql, without(token, claim))
    # then
    assert result.codes == ["TOKEN_INVALID"]
    assert result.data is None


def test_a_token_of_a_session_that_never_existed_is_refused(gql, alice):
    # given a genuine token whose session id names no session (a well-formed UUID)
    token = forged(login(gql)["token"], sid="00000000-0000-4000-8000-000000000000")
    # when
    result = me_with(gql, token)
    # then
    assert result.codes == ["TOKEN_REVOKED"]
    assert result.data is None


@pytest.mark.parametrize(
    "tamper",
    ["audience", "issuer", "no audience", "signature", "secret key", "algorithm none", "not a jwt"],
)
def test_a_token_with_wrong_claims_or_signature_is_token_invalid(gql, alice, tamper):
    # given a genuine token, then altered
    token = login(gql)["token"]
    bad = {
        "audience": lambda: forged(token, aud="another-api"),
        "issuer": lambda: forged(token, iss="https://evil.example"),
        "no audience": lambda: jwt.encode(
            {key: value for key, value in access_token_claims(token).items() if key != "aud"},
            settings.JWT_SECRET_KEY,
            algorithm="HS256",
        ),
        "signature": lambda: token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
        "secret key": lambda: forged(token, key=settings.SECRET_KEY),
        "algorithm none": lambda: jwt.encode(access_token_claims(token), None, algorithm="none"),
        "not a jwt": lambda: "not-a-token",
    }[tamper]()
    # when
    result = me_with(gql, bad)
    # then
    assert result.codes == ["TOKEN_INVALID"]
    assert result.data is None


def test_a_deactivated_users_token_stops_working_at_once(gql, alice):
    # given a live token
    token = login(gql)["token"]
    assert me_with(gql, token).errors == []
    # when the account is deactivated
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    result = me_with(gql, token)
    # then
    assert result.codes in (["TOKEN_INVALID"], ["TOKEN_REVOKED"])
    assert result.data is None


def test_a_deactivated_user_cannot_log_in(gql, alice):
    # given
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    # when
    result = gql.execute(LOGIN, {"username": "alice", "password": factories.PASSWORD})
    # then
    assert result.codes == ["UNAUTHENTICATED"]
    assert result.data is None


def test_refresh_token_rotates_and_the_old_one_is_revoked(gql, alice):
    # given
    first = login(gql)["refreshToken"]
    # when
    rotated = gql.execute(REFRESH, {"token": first})
    # then new tokens that work
    assert rotated.errors == []
    second = rotated.data["refreshToken"]
    assert second["user"] == {"username": "alice"}
    assert second["refreshToken"] != first
    assert me_with(gql, second["token"]).data == {"me": {"username": "alice", "role": "PATIENT"}}
    again = gql.execute(REFRESH, {"token": second["refreshToken"]})
    assert again.errors == []
    # and the old refresh token is dead
    replay = gql.execute(REFRESH, {"token": first})
    assert replay.codes == ["TOKEN_REVOKED"]
    assert replay.data is None


def test_revoke_token_logs_out(gql, alice):
    # given
    refresh = login(gql)["refreshToken"]
    # when
    result = gql.execute(REVOKE, {"token": refresh})
    # then
    assert result.errors == []
    assert result.data == {"revokeToken": {"revoked": True}}
    after = gql.execute(REFRESH, {"token": refresh})
    assert after.codes == ["TOKEN_REVOKED"]
    assert after.data is None


def test_wrong_password_and_unknown_user_answer_alike(gql, alice):
    # when
    wrong_password = gql.execute(LOGIN, {"username": "alice", "password": "not-it"})
    unknown_user = gql.execute(LOGIN, {"username": "mallory", "password": "not-it"})
    # then
    assert wrong_password.body == unknown_user.body
    assert wrong_password.codes == ["UNAUTHENTICATED"]
