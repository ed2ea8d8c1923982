"""Model permissions of the mfa app (staff only)."""

from enum import StrEnum


class MfaPermission(StrEnum):
    RESET_MFA = "mfa.reset_mfa"  # reset a user's TOTP after checking their identity outside the system
