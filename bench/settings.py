"""Settings for the benchmarks: production settings (DEBUG off), a database of their own.

The database is BENCH_DATABASE_URL, or a SQLite file in the temp directory: never the dev
db.sqlite3. The URLconf adds the hand-written yardstick views next to the real /graphql/.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "bench-secret-key-0123456789abcdef0123456789abcdef")
os.environ.setdefault("JWT_SECRET_KEY", "bench-jwt-signing-key-0123456789abcdef0123456789")
os.environ.setdefault("MFA_ENCRYPTION_KEY", "YmVuY2gtbWZhLWtleS0wMTIzNDU2Nzg5YWJjZGVmMDE=")  # Fernet: 32 bytes, base64
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "sqlite:///" + os.path.join(tempfile.gettempdir(), "clinic-bench.sqlite3")
)
os.environ.setdefault("TRUST_X_FORWARDED_PROTO", "1")  # requests arrive as from the TLS proxy
os.environ.setdefault("CONN_MAX_AGE", "60")  # what a production deployment sets; both sides share it

from clinic.settings import *  # noqa: E402,F403

DEBUG = False
ROOT_URLCONF = "bench.urls"
# One request carries the 1,000-patient worklist (the API's default cap is 100 per page).
GRAPHQL_MAX_PAGE_SIZE = 1000
# Seeding hashes one password; keep it quick.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "ERROR"}}
