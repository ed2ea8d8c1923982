"""Refresh tokens are stored as SHA-256 digests: a copy of the database refreshes nothing."""

import hashlib

from django.db import connection

from tests.auth.conftest import login_ok, refresh
from users.models import RefreshToken, SessionFamily

TOKEN_TABLES = [RefreshToken._meta.db_table, SessionFamily._meta.db_table, "refresh_token_refreshtoken"]


def dump_token_tables() -> list[str]:
    """Every column of every row of the token tables, as text: what a stolen backup holds."""
    values = []
    with connection.cursor() as cursor:
        for table in TOKEN_TABLES:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - fixed names
            values += [str(value) for row in cursor.fetchall() for value in row if value is not None]
    return values


def test_a_database_dump_holds_no_usable_refresh_token(gql, member):
    # given live sessions, one of them refreshed
    first = login_ok(gql, "member")["refreshToken"]
    live = [refresh(gql, first).data["refreshToken"]["refreshToken"], login_ok(gql, "member")["refreshToken"]]
    # when an attacker dumps the token tables
    dump = dump_token_tables()
    # then no clear token is in it, only digests ...
    assert dump
    assert not any(token in value for token in [first, *live] for value in dump)
    assert {hashlib.sha256(token.encode()).hexdigest() for token in live} <= set(dump)
    # ... and no value of the dump refreshes (the live sessions stay intact)
    for value in dump:
        assert refresh(gql, value).code == "TOKEN_INVALID", value
    assert all(refresh(gql, token).errors == [] for token in live)


def test_the_clear_token_exists_only_in_the_response(gql, member):
    # when a user signs in
    token = login_ok(gql, "member")["refreshToken"]
    # then the row keeps its digest, and the model cannot give the clear value back
    row = RefreshToken.objects.get()
    assert row.token == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) == 64  # 32 random bytes, hex
    try:
        row.get_token()
    except ValueError:
        pass
    else:
        raise AssertionError("a stored refresh token could be read back in clear")
