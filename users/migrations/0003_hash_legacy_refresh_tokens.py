"""Move django-graphql-jwt's clear-text refresh tokens into users.RefreshToken as SHA-256 digests.

Hashing rather than revoking: every live session keeps working across the deploy, while no
clear token is left in the database (the legacy rows are deleted). Each legacy token becomes a
family of its own, so reuse detection and logout work for it like for any other.
"""

import hashlib

from django.db import migrations


def hash_legacy_tokens(apps, schema_editor):
    LegacyRefreshToken = apps.get_model("refresh_token", "RefreshToken")
    SessionFamily = apps.get_model("users", "SessionFamily")
    RefreshToken = apps.get_model("users", "RefreshToken")
    seen = set()
    for legacy in LegacyRefreshToken.objects.order_by("revoked", "created").iterator():
        digest = hashlib.sha256(legacy.token.encode()).hexdigest()
        if not legacy.token or digest in seen:
            continue
        seen.add(digest)
        family = SessionFamily.objects.create(
            user_id=legacy.user_id,
            created_at=legacy.created,
            last_used_at=legacy.created,
            revoked_at=legacy.revoked,
            end_reason="LOGOUT" if legacy.revoked else "",
        )
        token = RefreshToken.objects.create(user_id=legacy.user_id, family=family, token=digest, revoked=legacy.revoked)
        RefreshToken.objects.filter(pk=token.pk).update(created=legacy.created)  # auto_now_add overrode it
    LegacyRefreshToken.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0002_sessions"),
        ("refresh_token", "0002_auto_20190130_0900"),
    ]

    operations = [migrations.RunPython(hash_legacy_tokens, migrations.RunPython.noop)]
