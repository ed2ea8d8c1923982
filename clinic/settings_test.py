"""Settings for the test suite: production settings with test keys and fast hashing."""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-0123456789abcdef0123456789")
os.environ.setdefault("JWT_SECRET_KEY", "test-jwt-signing-key-0123456789abcdef012345")
os.environ.setdefault("MFA_ENCRYPTION_KEY", "dGVzdC1tZmEta2V5LTAxMjM0NTY3ODlhYmNkZWYwMTI=")  # Fernet: 32 bytes, base64
# The suite's doctors and staff sign in with a password alone (servers it starts inherit this);
# tests/auth/test_mfa*.py turn MFA_REQUIRED_ROLES on where they test it.
os.environ.setdefault("MFA_REQUIRED_ROLES", "")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")  # the test client speaks plain HTTP

from clinic.settings import *  # noqa: E402,F403

# Fixtures hash with MD5 for speed; tests of hashing itself switch Argon2 back on.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]

# The manifest storage needs `collectstatic` first; the suite renders admin pages without it.
# (tests/ops starts gunicorn with the real storage after a real collectstatic.)
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
WHITENOISE_AUTOREFRESH = True  # no "No directory at STATIC_ROOT" warning per test
