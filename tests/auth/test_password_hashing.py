"""Passwords hash with Argon2; an older hash is upgraded at the next successful tokenAuth."""

import pytest
from django.contrib.auth.hashers import make_password
from django.test import override_settings

from tests.auth.conftest import login, login_ok
from users.models import User

ARGON2_FIRST = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.MD5PasswordHasher",
]


@pytest.mark.parametrize("old_hasher", ["pbkdf2_sha256", "md5"])
@override_settings(PASSWORD_HASHERS=ARGON2_FIRST)
def test_an_older_hash_is_upgraded_to_argon2_on_login(gql, member, old_hasher):
    # given a user whose password was hashed with an older algorithm
    User.objects.filter(pk=member.pk).update(password=make_password("old-but-gold-2019", hasher=old_hasher))
    # when they sign in
    login_ok(gql, "member", "old-but-gold-2019")
    # then the stored hash is Argon2, and the password still works
    stored = User.objects.get(pk=member.pk).password
    assert stored.startswith("argon2$argon2id$")
    assert login_ok(gql, "member", "old-but-gold-2019")["user"] == {"username": "member"}


@override_settings(PASSWORD_HASHERS=ARGON2_FIRST)
def test_a_failed_login_does_not_touch_the_hash(gql, member):
    # given an older hash
    old = make_password("old-but-gold-2019", hasher="pbkdf2_sha256")
    User.objects.filter(pk=member.pk).update(password=old)
    # when a wrong password is tried
    assert login(gql, "member", "not-it").code == "UNAUTHENTICATED"
    # then nothing was rewritten
    assert User.objects.get(pk=member.pk).password == old


def test_production_settings_hash_with_argon2_first():
    from clinic import settings as production

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
