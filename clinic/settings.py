"""Clinic API settings: configuration only, read from the environment (12-factor)."""

import base64
import hashlib
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

# Development defaults exist so `make run` needs nothing; production must set its own keys.
DEV_SECRET_KEY = "dev-only-secret-key-not-for-production-use-0123456789"
DEV_JWT_SECRET_KEY = "dev-only-jwt-signing-key-not-for-production-0123456789"
SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
JWT_SECRET_KEY = os.environ.get("JWT_SECRET_KEY", DEV_JWT_SECRET_KEY)
if not DEBUG:
    for name, value, default in (
        ("SECRET_KEY", SECRET_KEY, DEV_SECRET_KEY),
        ("JWT_SECRET_KEY", JWT_SECRET_KEY, DEV_JWT_SECRET_KEY),
    ):
        if value == default or len(value.encode()) < 32:
            raise ImproperlyConfigured(
                f"{name} must be set to a secret of at least 32 bytes when DEBUG is off."
            )
if JWT_SECRET_KEY == SECRET_KEY:
    raise ImproperlyConfigured("JWT_SECRET_KEY must differ from SECRET_KEY.")

# MFA (mfa/, issue 17). TOTP secrets are encrypted at rest with Fernet keys from MFA_ENCRYPTION_KEY
# (comma-separated: the first encrypts, all decrypt, for rotation; make one with
# `python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`).
# Under DEBUG a key derived from SECRET_KEY stands in; with DEBUG off the app refuses to start without one.
MFA_ENCRYPTION_KEYS = env_list("MFA_ENCRYPTION_KEY")
if not MFA_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured("MFA_ENCRYPTION_KEY must be set to a Fernet key when DEBUG is off.")
    MFA_ENCRYPTION_KEYS = [
        base64.urlsafe_b64encode(hashlib.sha256(f"clinic.mfa-dev-key:{SECRET_KEY}".encode()).digest()).decode()
    ]


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode())) == 32
    except ValueError:  # binascii.Error: not base64
        return False


if not all(_is_fernet_key(key) for key in MFA_ENCRYPTION_KEYS):
    raise ImproperlyConfigured("MFA_ENCRYPTION_KEY must hold Fernet keys: 32 bytes in URL-safe base64.")
# Roles whose users must use TOTP: without it their session can only enrol. None under DEBUG, so
# `make run`'s demo needs no authenticator app; an operator may set it empty.
MFA_REQUIRED_ROLES = frozenset(env_list("MFA_REQUIRED_ROLES", "" if DEBUG else "DOCTOR,STAFF"))
MFA_ISSUER = os.environ.get("MFA_ISSUER", "Clinic")  # the name authenticator apps show

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "guardian",
    "axes",
    "graphql_jwt.refresh_token",
    "strawberry_django",
    "users",
    "audit",
    "records",
    "care",
    "mfa",  # TOTP second factor (issue 17)
    "idempotency",  # the HTTP API layer's Idempotency-Key answers (not a domain app)
    "persisted",  # the HTTP API layer's persisted documents (APQ), shared by every instance
]

MIDDLEWARE = [
    "ops.middleware.HealthCheckMiddleware",  # first: probes come by IP, over HTTP, unauthenticated
    "ops.middleware.ClientAddressMiddleware",  # the client's IP behind TRUSTED_PROXY_HOPS proxies
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # the admin's static files, in production too
    "audit.middleware.RequestOriginMiddleware",
    "schema.middleware.GraphQLFailureMiddleware",  # /graphql/: JSON even when a middleware fails, no-store
    "ops.middleware.RequestLogMiddleware",  # one JSON line per request, inside the request id
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "users.admin_sessions.AdminSessionMiddleware",  # admin views only: idle, absolute and revoked sessions end
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"
ASGI_APPLICATION = "clinic.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Persistent connections, checked before reuse (a restarted or failed-over server is noticed);
# on PostgreSQL a statement timeout so one runaway query cannot hold a worker and its locks
# (below gunicorn's 30 s worker timeout, so the query fails cleanly before the worker is killed).
CONN_MAX_AGE = int(os.environ.get("CONN_MAX_AGE", "60"))


def database_from_url(url: str) -> dict:
    database = dj_database_url.parse(url, conn_max_age=CONN_MAX_AGE, conn_health_checks=True)
    if database["ENGINE"] == "django.db.backends.postgresql":
        options = database.setdefault("OPTIONS", {})
        options.setdefault("connect_timeout", int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5")))
        statement_timeout = int(os.environ.get("DATABASE_STATEMENT_TIMEOUT_MS", "15000"))
        options["options"] = f"{options.get('options', '')} -c statement_timeout={statement_timeout}".strip()
    elif database["ENGINE"] == "django.db.backends.sqlite3":
        options = database.setdefault("OPTIONS", {})
        # SQLite's default (DEFERRED) transaction reads first and asks for the write lock at its
        # first write; when another writer got in between, SQLite fails it at once with "database
        # is locked" (waiting could not help: its snapshot is stale), whatever the busy timeout.
        # IMMEDIATE takes the write lock at BEGIN, so writers queue for it instead, and every
        # read-then-write in a transaction (select_for_update is a no-op here) sees the last commit.
        options.setdefault("transaction_mode", "IMMEDIATE")
        # How long a writer waits for the lock (seconds): below gunicorn's 30 s worker timeout.
        options.setdefault("timeout", int(os.environ.get("DATABASE_BUSY_TIMEOUT_MS", "15000")) / 1000)
        # WAL: readers never wait for the writer, nor it for them. It is stored in the file, so
        # this only switches a new file over. synchronous stays FULL: an acknowledged write
        # survives a power cut, not only a crash.
        options.setdefault("init_command", "PRAGMA journal_mode=WAL")
    return database


DATABASES = {"default": database_from_url(os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Optional read replica: clinic.db_routers sends reads of the doctor directory (no PHI) there.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = database_from_url(os.environ["DATABASE_REPLICA_URL"])
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["clinic.db_routers.ReadReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "users.User"
# Password login only: the JWT backend stays out (it answers with the header's user even
# for a wrong password). Tokens are authenticated by users.middleware.
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username+IP before any password is hashed.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-guardian: no anonymous user row (it would pass as authenticated), direct FK models.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

GRAPHQL_JWT = {
    "JWT_SECRET_KEY": JWT_SECRET_KEY,
    "JWT_ALGORITHM": "HS256",
    "JWT_VERIFY": True,
    "JWT_VERIFY_EXPIRATION": True,
    "JWT_EXPIRATION_DELTA": timedelta(minutes=5),
    "JWT_LEEWAY": 10,
    "JWT_AUDIENCE": os.environ.get("JWT_AUDIENCE", "clinic-api"),
    "JWT_ISSUER": os.environ.get("JWT_ISSUER", "clinic-api"),
    "JWT_AUTH_HEADER_PREFIX": "Bearer",
    "JWT_ALLOW_ARGUMENT": False,
    "JWT_LONG_RUNNING_REFRESH_TOKEN": True,
    "JWT_REUSE_REFRESH_TOKENS": False,
    "JWT_REFRESH_EXPIRATION_DELTA": timedelta(
        minutes=int(os.environ.get("JWT_REFRESH_ABSOLUTE_MINUTES", str(12 * 60)))
    ),
    "JWT_REFRESH_TOKEN_N_BYTES": 32,
    # Sessions (users/sessions.py): token families, SHA-256 digests only, a session-version claim.
    "JWT_REFRESH_TOKEN_MODEL": "users.RefreshToken",
    "JWT_PAYLOAD_HANDLER": "users.sessions.jwt_payload",
    "JWT_GET_REFRESH_TOKEN_HANDLER": "users.sessions.get_refresh_token_by_digest",
    # Browser cookie mode (JWT_REFRESH_COOKIE): the refresh token only, never the access token.
    "JWT_REFRESH_TOKEN_COOKIE_NAME": "clinic-refresh-token",
    "JWT_COOKIE_SECURE": not DEBUG,
    # RFC 6265 5.1.4: the path "/graphql" matches both "/graphql" and "/graphql/" (and nothing
    # like "/graphqlx"); "/graphql/" would keep the cookie from a client posting to "/graphql".
    "JWT_COOKIE_PATH": "/graphql",
    "JWT_COOKIE_SAMESITE": "Strict",
}
# No refresh for this long ends a session (HIPAA automatic logoff); the absolute cap is
# JWT_REFRESH_EXPIRATION_DELTA above, counted from login.
JWT_REFRESH_IDLE_TIMEOUT = timedelta(minutes=int(os.environ.get("JWT_REFRESH_IDLE_MINUTES", "15")))
# Seconds after a rotation in which presenting the rotated refresh token again answers the same
# new pair instead of ending the session as reuse (two tabs refreshing at once); 0 = off.
JWT_REFRESH_REUSE_GRACE_SECONDS = int(os.environ.get("JWT_REFRESH_REUSE_GRACE_SECONDS", "0"))
# Browsers: tokenAuth/refreshToken also set the refresh token in an HttpOnly cookie on /graphql.
JWT_REFRESH_COOKIE = env_bool("JWT_REFRESH_COOKIE", False)

# django-axes: login lockout, state in the database so every worker process sees it.
# Keyed by username AND IP together: by IP alone, one clinic's NAT or proxy would lock out
# everyone behind it; by username alone, anyone could lock a doctor out from anywhere.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
# users.lockout resets a username+IP's failures on success itself, inside the critical section
# that serialises attempts; axes' reset on user_logged_in would come after the lock is released.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "users.sessions.axes_username"
# Our own audit trail records logins; axes' access log would also create a server session.
AXES_DISABLE_ACCESS_LOG = True
# Per username across all IPs (users.lockout): after LOGIN_USERNAME_FAILURE_BUDGET failures in a
# sliding LOGIN_USERNAME_WINDOW, each further password check waits FIRST_DELAY, doubling with every
# further failure, at most MAX_DELAY after the last one (RATE_LIMITED with retryAfter); IPs the
# user signed in from within KNOWN_IP_AGE are exempt. Slows distributed guessing (about 30 guesses
# an hour per account), never locks anyone out for longer than MAX_DELAY.
LOGIN_USERNAME_FAILURE_BUDGET = int(os.environ.get("LOGIN_USERNAME_FAILURE_BUDGET", "20"))
LOGIN_USERNAME_WINDOW = timedelta(minutes=int(os.environ.get("LOGIN_USERNAME_WINDOW_MINUTES", "60")))
LOGIN_USERNAME_FIRST_DELAY = timedelta(seconds=10)
LOGIN_USERNAME_MAX_DELAY = AXES_COOLOFF_TIME
LOGIN_USERNAME_KNOWN_IP_AGE = timedelta(days=30)
# Longest an attempt queues for its username's lock (PostgreSQL lock_timeout; SQLite waits its
# busy timeout) before RATE_LIMITED: each attempt ahead holds it for at most one password hash.
LOGIN_LOCK_WAIT = timedelta(seconds=10)
# No AxesMiddleware: it would answer /graphql/ with HTML or a bare 403; users.sessions turns a
# lockout into a GraphQL error with code RATE_LIMITED instead.
SILENCED_SYSTEM_CHECKS = ["axes.W002"]

# Email: Django's own settings by their names.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Clinic API <no-reply@clinic.example>")

# Account links in mail (users.account_tokens): <FRONTEND_URL>accept-invitation?token=… and
# reset-password?token=…. Empty: this server's own address as the request reached it (Host is
# checked against ALLOWED_HOSTS), where the reference web app is served. Set it in production.
FRONTEND_URL = os.environ.get("FRONTEND_URL", "")
INVITATION_LIFETIME = timedelta(hours=int(os.environ.get("INVITATION_LIFETIME_HOURS", "72")))
PASSWORD_RESET_LIFETIME = timedelta(minutes=int(os.environ.get("PASSWORD_RESET_LIFETIME_MINUTES", "30")))
# requestPasswordReset answers RATE_LIMITED past this many requests per address, or per IP, in a
# sliding PASSWORD_RESET_WINDOW (known and unknown addresses counted alike).
PASSWORD_RESET_PER_ADDRESS = int(os.environ.get("PASSWORD_RESET_PER_ADDRESS", "3"))
PASSWORD_RESET_PER_IP = int(os.environ.get("PASSWORD_RESET_PER_IP", "10"))
PASSWORD_RESET_WINDOW = timedelta(minutes=int(os.environ.get("PASSWORD_RESET_WINDOW_MINUTES", "60")))

# Notification outbox (care/notifications.py). A failed send is retried after
# base * 2^(attempt-1) seconds (jittered, capped at the max); after MAX_ATTEMPTS it is FAILED.
# A claim (lease) must outlive a send: keep LEASE_SECONDS well above EMAIL_TIMEOUT.
NOTIFICATION_MAX_ATTEMPTS = int(os.environ.get("NOTIFICATION_MAX_ATTEMPTS", "10"))
NOTIFICATION_BACKOFF_BASE_SECONDS = int(os.environ.get("NOTIFICATION_BACKOFF_BASE_SECONDS", "30"))
NOTIFICATION_BACKOFF_MAX_SECONDS = int(os.environ.get("NOTIFICATION_BACKOFF_MAX_SECONDS", "3600"))
NOTIFICATION_LEASE_SECONDS = int(os.environ.get("NOTIFICATION_LEASE_SECONDS", "300"))

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles"
# WhiteNoise serves collectstatic's output: hashed names, cached forever, compressed.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

GRAPHQL_PUBLIC_INTROSPECTION = env_bool("GRAPHQL_PUBLIC_INTROSPECTION", False)
# Production switch: only the documents of the clients' manifest run (schema/persisted.py, docs/clients.md).
TRUSTED_DOCUMENTS_ONLY = env_bool("TRUSTED_DOCUMENTS_ONLY", False)
TRUSTED_DOCUMENTS_MANIFEST = os.environ.get(
    "TRUSTED_DOCUMENTS_MANIFEST", str(BASE_DIR / "clients" / "trusted-documents.json")
)
# APQ registrations kept (newest first): bounds the table whoever registers (persisted/services.py).
# At most this many times schema.persisted.MAX_DOCUMENT_CHARS (32 KiB): 160 MiB at worst.
PERSISTED_DOCUMENTS_MAX = int(os.environ.get("PERSISTED_DOCUMENTS_MAX", "5000"))
# Speed-ups over private framework internals (schema/fastpath/); off, or on untested versions: stock Strawberry.
GRAPHQL_FAST_PATH = env_bool("GRAPHQL_FAST_PATH", True)
# Audit every PHI read (HIPAA 164.312(b)). Not from the environment: off only in tests that
# measure what auditing costs (schema/audit/reads.py reads it per request).
AUDIT_READS = True
# How long a doctor's emergency access ("break the glass", care/emergency.py) lasts. Issue 18.
EMERGENCY_ACCESS_MINUTES = int(os.environ.get("EMERGENCY_ACCESS_MINUTES", "60"))
# The audit trail is this many hash chains on PostgreSQL, by a hash of the patient (at most
# audit.chain.MAX_SHARDS; SQLite has one writer at a time and keeps one chain). Issue 19.
AUDIT_CHAIN_SHARDS = int(os.environ.get("AUDIT_CHAIN_SHARDS", "16"))
# `prune_audit` drops monthly partitions older than this (HIPAA: 6 years), once verified.
AUDIT_RETENTION_YEARS = int(os.environ.get("AUDIT_RETENTION_YEARS", "6"))

# HTTP hardening (issue 6; `manage.py check --deploy` is clean with DEBUG off). TLS usually ends
# at a proxy: set TRUST_X_FORWARDED_PROTO=1 when it overwrites X-Forwarded-Proto (else HSTS,
# which Django only sends on https requests, never goes out, and the https redirect loops), or
# SECURE_SSL_REDIRECT=0 when the proxy itself refuses plain HTTP.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies (load balancer, CDN) append to X-Forwarded-For in front of the app: the
# client's address for the audit trail and the lockout is the one that many from the right.
# 0 (default): X-Forwarded-For is ignored and REMOTE_ADDR is the peer's address.
TRUSTED_PROXY_HOPS = int(os.environ.get("TRUSTED_PROXY_HOPS", "0"))
SECURE_HSTS_SECONDS = 0 if DEBUG else int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG  # the admin's cookies
SESSION_COOKIE_HTTPONLY = True
# The Django session serves the admin only (the API never reads it). Its rows stay in the
# database so that a logout or a revocation really ends them (a signed-cookie session cannot be
# taken back). users.admin_sessions ends it after JWT_REFRESH_IDLE_TIMEOUT without an admin
# request and at the refresh absolute lifetime; the cookie and the row never outlive the latter,
# and the cookie goes when the browser closes (shared clinic workstations).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = int(GRAPHQL_JWT["JWT_REFRESH_EXPIRATION_DELTA"].total_seconds())
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = False  # last activity is written at most once a minute instead
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # schema.limits.MAX_BODY_BYTES; /graphql/ answers 413 itself
# CORS (django-cors-headers): only the listed single-page apps, only /graphql/, only POST;
# credentials (the refresh-token cookie) only in cookie mode.
CORS_URLS_REGEX = r"^/graphql/?$"
CORS_ALLOW_METHODS = ["OPTIONS", "POST"]
# x-csrf-token: cookie mode's cookie-only refreshToken/revokeToken need it (schema/auth.py).
# idempotency-key: safe retries of mutations; the answer says when it is a replay, or when to retry.
# CORS_EXTRA_ALLOWED_HEADERS (comma-separated) adds what a client library sends on its own, e.g.
# apollographql-client-name,apollographql-client-version,sentry-trace,baggage: otherwise the
# browser's preflight fails and no request of that app is sent at all.
CORS_ALLOW_HEADERS = ["authorization", "content-type", "x-request-id", "x-csrf-token", "idempotency-key"] + [
    header.lower() for header in env_list("CORS_EXTRA_ALLOWED_HEADERS")
]
CORS_EXPOSE_HEADERS = ["x-request-id", "idempotent-replayed", "retry-after"]
CORS_ALLOW_CREDENTIALS = JWT_REFRESH_COOKIE

# JSON lines (ops.logs) in production; LOG_FORMAT=text for humans (the default with DEBUG).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "ops.logs.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", **({"formatter": "json"} if LOG_FORMAT == "json" else {})}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Strawberry logs every resolver error with its traceback; schema/ logs what matters.
        "strawberry.execution": {"level": "CRITICAL", "propagate": False},
    },
}
