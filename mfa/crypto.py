"""TOTP secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) under MFA_ENCRYPTION_KEY (clinic/settings.py).

Several keys may be configured for rotation: the first encrypts, any of them decrypts.
"""

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in settings.MFA_ENCRYPTION_KEYS])


def secret_encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def secret_decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()
