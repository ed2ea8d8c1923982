"""MFA settings as a deployment loads them: the encryption key is required with DEBUG off, and who must enrol."""

from tests.security.test_deploy_settings import manage, production_env

SHOW = "from django.conf import settings; print(sorted(settings.MFA_REQUIRED_ROLES), len(settings.MFA_ENCRYPTION_KEYS))"


def without_mfa_settings(env: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in env.items() if not key.startswith("MFA_")}


def test_production_refuses_to_start_without_the_encryption_key(tmp_path):
    result = manage(without_mfa_settings(production_env(tmp_path)), "check")
    assert result.returncode != 0
    assert "MFA_ENCRYPTION_KEY must be set" in result.stderr


def test_production_requires_mfa_of_doctors_and_staff_by_default(tmp_path):
    env = without_mfa_settings(production_env(tmp_path)) | {
        "MFA_ENCRYPTION_KEY": production_env(tmp_path)["MFA_ENCRYPTION_KEY"]
    }
    result = manage(env, "shell", "-c", SHOW)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['DOCTOR', 'STAFF'] 1"


def test_an_operator_may_require_nobody(tmp_path):
    env = production_env(tmp_path, MFA_REQUIRED_ROLES="")
    result = manage(env, "shell", "-c", SHOW)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[] 1"


def test_debug_needs_no_key_and_requires_nobody(tmp_path):
    env = without_mfa_settings(production_env(tmp_path, DEBUG="1"))
    result = manage(env, "shell", "-c", SHOW)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[] 1"  # a key derived from SECRET_KEY stands in


def test_a_key_that_is_not_a_fernet_key_is_refused_at_start(tmp_path):
    result = manage(production_env(tmp_path, MFA_ENCRYPTION_KEY="not-a-fernet-key"), "check")
    assert result.returncode != 0
    assert "Fernet keys" in result.stderr
