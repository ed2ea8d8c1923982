"""Migration users 0003: clear-text graphql_jwt refresh tokens become digests in users.RefreshToken."""

import importlib

from django.apps import apps
from graphql_jwt.refresh_token.models import RefreshToken as LegacyRefreshToken

from tests.auth.conftest import refresh
from users.models import RefreshToken, SessionFamily, refresh_token_digest

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
