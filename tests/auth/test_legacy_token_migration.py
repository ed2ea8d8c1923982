"""Migration users 0003: clear-text graphql_jwt refresh tokens become digests in users.RefreshToken."""

import importlib

from django.apps import apps

from tests.auth.conftest import ME, refresh
from users.models import RefreshToken, SessionFamily, refresh_token_digest
from users.token_library import LegacyRefreshToken, get_token

migration = importlib.import_module("users.migrations.0003_hash_legacy_refresh_tokens")


def test_legacy_tokens_are_hashed_and_the_clear_rows_erased(gql, member):
    # given clear-text tokens of the old table: one live, one revoked
    live = LegacyRefreshToken.objects.create(user=member)
    revoked = LegacyRefreshToken.objects.create(user=member)
    revoked.revoke()
    live_token, revoked_token = live.token, revoked.token
    # when the data migration runs
    migration.hash_legacy_tokens(apps, None)
    # then the old table is empty and the new one holds only digests, one family per token
    assert not LegacyRefreshToken.objects.exists()
    assert set(RefreshToken.objects.values_list("token", flat=True)) == {
        refresh_token_digest(live_token),
        refresh_token_digest(revoked_token),
    }
    assert SessionFamily.objects.count() == 2
    # and the live session keeps working (rotated like any other), the revoked one stays revoked
    result = refresh(gql, live_token)
    assert result.errors == []
    assert result.data["refreshToken"]["refreshToken"] != live_token
    assert refresh(gql, revoked_token).code == "TOKEN_REVOKED"


def test_an_access_token_from_before_sessions_is_refused_and_the_refresh_token_replaces_it(gql, member):
    # given an access token minted as before session families (no `sid`) and its clear refresh token
    legacy_access = get_token(member)
    legacy_refresh = LegacyRefreshToken.objects.create(user=member).token
    # when the data migration runs
    migration.hash_legacy_tokens(apps, None)
    # then the old access token is refused (it had at most 5 minutes left; DESIGN.md section 4 wants
    # a live session id in every access token), and refreshing gives one that works
    assert gql.execute(ME, token=legacy_access).code == "TOKEN_INVALID"
    renewed = refresh(gql, legacy_refresh)
    assert renewed.errors == []
    assert gql.execute(ME, token=renewed.data["refreshToken"]["token"]).data == {"me": {"username": "member"}}
