"""Helpers for the MFA tests (tests/auth/test_mfa*.py): documents, frozen time, enrolment."""

from datetime import UTC, datetime, timedelta

import pyotp

from tests.factories import PASSWORD
from users.models import User

START = "mutation { startTotpEnrollment { secret otpauthUri } }"
CONFIRM = "mutation ($code: String!) { confirmTotpEnrollment(input: {code: $code}) { recoveryCodes } }"
DISABLE = """
mutation ($password: String!, $code: String!) { disableTotp(input: {password: $password, code: $code}) { disabled } }
"""
TOKEN_AUTH = """
mutation ($username: String!, $password: String!) {
  tokenAuth(username: $username, password: $password) {
    token refreshToken mfaRequired mfaToken payload user { username }
  }
}
"""
VERIFY = """
mutation ($mfaToken: String!, $code: String!) {
  verifyMfa(input: {mfaToken: $mfaToken, code: $code}) {
    token refreshToken mfaRequired mfaToken payload user { username }
  }
}
"""
ME = "{ me { username } }"
STEP = timedelta(seconds=30)
# The first second of a 30-second TOTP step: tests move time in whole steps from here.
T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


def code_at(secret: str, moment: datetime) -> str:
    return pyotp.TOTP(secret).at(moment)


def now() -> datetime:
    return datetime.now(tz=UTC)


def enrol(gql, user: User, *, token: str | None = None) -> tuple[str, list[str]]:
    """Turn TOTP on for `user` at the current (frozen) time: (secret, recovery codes)."""
    started = gql.execute(START, token=token) if token else gql.execute(START, user=user)
    assert started.errors == [], started.errors
    secret = started.data["startTotpEnrollment"]["secret"]
    variables = {"code": code_at(secret, now())}
    confirmed = gql.execute(CONFIRM, variables, token=token) if token else gql.execute(CONFIRM, variables, user=user)
    assert confirmed.errors == [], confirmed.errors
    return secret, confirmed.data["confirmTotpEnrollment"]["recoveryCodes"]


def login(gql, username: str, password: str = PASSWORD, **kwargs):
    return gql.execute(TOKEN_AUTH, {"username": username, "password": password}, **kwargs)


def mfa_token_for(gql, username: str, **kwargs) -> str:
    started = login(gql, username, **kwargs)
    assert started.errors == [], started.errors
    assert started.data["tokenAuth"]["mfaRequired"] is True
    return started.data["tokenAuth"]["mfaToken"]


def verify(gql, mfa_token: str, code: str, **kwargs):
    return gql.execute(VERIFY, {"mfaToken": mfa_token, "code": code}, **kwargs)
