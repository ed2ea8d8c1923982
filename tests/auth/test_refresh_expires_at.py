"""`refreshExpiresAt` (DateTime) says when the session ends unless refreshed; the deprecated
`refreshExpiresIn` (a Unix time despite its name) is still returned and agrees with it."""

from datetime import UTC, datetime, timedelta

import time_machine

from tests.factories import PASSWORD

EXPIRIES = "refreshToken refreshExpiresAt refreshExpiresIn"
TOKEN_AUTH = f"mutation ($p: String!) {{ tokenAuth(username: \"member\", password: $p) {{ {EXPIRIES} }} }}"
REFRESH = f"mutation ($r: String!) {{ refreshToken(refreshToken: $r) {{ {EXPIRIES} }} }}"
DEPRECATION = """
{ __type(name: "TokenAuthPayload") {
    fields(includeDeprecated: true) { name isDeprecated deprecationReason } } }
"""


def expiry(payload: dict) -> datetime:
    at = datetime.fromisoformat(payload["refreshExpiresAt"])
    # then both fields name the same instant, to the second
    assert at.tzinfo is not None
    assert int(at.timestamp()) == payload["refreshExpiresIn"]
    return at


def test_login_and_refresh_answer_both_fields_and_they_agree(gql, member):
    # given a sign-in at a known time
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as clock:
        login = gql.execute(TOKEN_AUTH, {"p": PASSWORD})
        assert login.errors == []
        # when the client refreshes ten minutes later
        clock.shift(timedelta(minutes=10))
        refreshed = gql.execute(REFRESH, {"r": login.data["tokenAuth"]["refreshToken"]})
    # then each answer ends the session 15 idle minutes after it, in both fields
    assert refreshed.errors == []
    assert expiry(login.data["tokenAuth"]) == datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    assert expiry(refreshed.data["refreshToken"]) == datetime(2026, 3, 2, 9, 25, tzinfo=UTC)


def test_refresh_expires_in_is_deprecated_with_a_reason(gql, member):
    # when a signed-in tool introspects the payload type
    result = gql.execute(DEPRECATION, user=member)
    # then only the old field is deprecated, and the reason names its successor
    fields = {field["name"]: field for field in result.data["__type"]["fields"]}
    assert fields["refreshExpiresAt"]["isDeprecated"] is False
    assert fields["refreshExpiresIn"]["isDeprecated"] is True
    assert "refreshExpiresAt" in fields["refreshExpiresIn"]["deprecationReason"]
