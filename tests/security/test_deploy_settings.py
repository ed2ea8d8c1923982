"""Production settings, in a fresh interpreter as a deployment would load them."""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

MANAGE = str(settings.BASE_DIR / "manage.py")


def production_env(tmp_path, **overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "SECURE_", "CORS_", "GRAPHQL_"))
        and key not in {"DEBUG", "SECRET_KEY", "JWT_SECRET_KEY", "ALLOWED_HOSTS"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(48),
        JWT_SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="api.clinic.example",
        CORS_ALLOWED_ORIGINS="https://app.clinic.example,https://admin.clinic.example",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        STATIC_ROOT=str(tmp_path / "static"),
    )
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, MANAGE, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def setting(env: dict[str, str], expression: str) -> str:
    code = f"import django; django.setup(); from django.conf import settings as s; print({expression})"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                            cwd=settings.BASE_DIR, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    # when: even warnings fail it
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")

    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_catches_a_weakened_setting(tmp_path):
    # when: HSTS switched off (so the check above can fail)
    result = manage(production_env(tmp_path, SECURE_HSTS_SECONDS="0"), "check", "--deploy", "--fail-level", "WARNING")

    # then
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout


def test_production_settings_harden_http_and_read_cors_from_the_environment(tmp_path):
    # when
    values = setting(
        production_env(tmp_path),
        "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CORS_ALLOWED_ORIGINS",
    )

    # then
    assert values == "True 31536000 True ['https://app.clinic.example', 'https://admin.clinic.example']"


def test_development_settings_send_no_hsts(tmp_path):
    # when
    values = setting(production_env(tmp_path, DEBUG="1"), "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS")

    # then
    assert values == "False 0"


@pytest.mark.parametrize(
    "overrides",
    [
        {"SECRET_KEY": "dev-only-secret-key-not-for-production-use-0123456789"},
        {"SECRET_KEY": "short-key"},
        {"JWT_SECRET_KEY": "x" * 31},
        {"JWT_SECRET_KEY": "dev-only-jwt-signing-key-not-for-production-0123456789"},
    ],
    ids=["default key", "short key", "short JWT key", "default JWT key"],
)
def test_the_app_refuses_to_start_with_debug_off_and_a_weak_key(tmp_path, overrides):
    # given
    env = production_env(tmp_path, **overrides)

    # when
    result = manage(env, "check")

    # then
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "at least 32 bytes" in result.stderr


def test_the_app_refuses_to_start_without_keys(tmp_path):
    # given
    env = production_env(tmp_path)
    del env["SECRET_KEY"], env["JWT_SECRET_KEY"]

    # when
    result = manage(env, "check")

    # then
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
