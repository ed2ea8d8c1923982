"""TOTP authenticators, recovery codes and pending second-factor logins (issue 17, DESIGN.md section 10).

Nothing here holds a usable secret in clear: the TOTP secret is Fernet-encrypted (mfa.crypto),
recovery codes and login challenge tokens are kept as keyed digests.
"""

import uuid

from django.conf import settings
from django.db import models


class TotpDevice(models.Model):
    """A user's authenticator app: started by startTotpEnrollment, on once `confirmed_at` is set."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="totp_device"
    )
    secret_encrypted = models.TextField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The newest RFC 6238 time step a code was accepted for: a code is never accepted twice, and no
    # code of an earlier step after a later one.
    last_used_step = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        permissions = [("reset_mfa", "Can reset a user's MFA")]

    def __str__(self) -> str:
        return f"TOTP of user {self.user_id} ({'on' if self.confirmed_at else 'enrolling'})"


class RecoveryCode(models.Model):
    """One of the ten single-use codes confirmTotpEnrollment hands out, as a keyed digest."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes")
    digest = models.CharField(max_length=64, unique=True)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"recovery code of user {self.user_id} ({'used' if self.used_at else 'unused'})"


class MfaChallenge(models.Model):
    """A login whose password was right and that waits for the code: tokenAuth's `mfaToken`, single use."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="mfa_challenge_expires_idx")]

    def __str__(self) -> str:
        return f"MFA challenge {self.id} of user {self.user_id}"
