import hashlib
import secrets
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from users.token_library import AbstractRefreshToken


class Role(models.TextChoices):
    PATIENT = "PATIENT", "Patient"
    DOCTOR = "DOCTOR", "Doctor"
    STAFF = "STAFF", "Staff"


class User(AbstractUser):
    email = models.EmailField("email address", unique=True)
    # Put in every access token ("sv" claim) and compared on each request with the row the
    # request loads anyway: bumping it ends every access token of the user at once.
    session_version = models.PositiveIntegerField(default=0, editable=False)

    REQUIRED_FIELDS = ["email"]

    class Meta(AbstractUser.Meta):
        # Not users.change_user: in the admin that edits everything, superuser flag and permissions
        # included. This one only lets staff deactivate and reactivate (deactivateUser, reactivateUser).
        permissions = [("deactivate_user", "Can deactivate and reactivate accounts")]

    def save(self, *args, **kwargs):
        # session_version only moves by users.sessions' UPDATE ... = F() + 1: a full save of an
        # instance loaded before that must not write the old value back (reviving revoked tokens).
        if not self._state.adding and kwargs.get("update_fields") is None and not args:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "session_version"
            ]
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def role(self) -> Role:
        """Derived from which profile exists; never stored twice."""
        if hasattr(self, "patient"):
            return Role.PATIENT
        if hasattr(self, "doctor"):
            return Role.DOCTOR
        return Role.STAFF


class Doctor(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="doctor")
    specialty = models.CharField(max_length=100)
    license_number = models.CharField(max_length=50, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__last_name", "user__first_name", "id"]

    def __str__(self) -> str:
        return f"Dr. {self.user.full_name}"

    @property
    def full_name(self) -> str:
        return self.user.full_name


def generate_medical_record_number() -> str:
    # 10 characters of an unambiguous alphabet: ~50 bits, collisions are retried by the service.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "MRN-" + "".join(secrets.choice(alphabet) for _ in range(10))


class Patient(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="patient")
    date_of_birth = models.DateField()
    medical_record_number = models.CharField(
        max_length=20, unique=True, default=generate_medical_record_number, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__last_name", "user__first_name", "id"]

    def __str__(self) -> str:
        return f"{self.user.full_name} ({self.medical_record_number})"

    @property
    def full_name(self) -> str:
        return self.user.full_name


def refresh_token_digest(token: str) -> str:
    """What the database keeps of a refresh token: its SHA-256 (the token is 256 random bits)."""
    return hashlib.sha256(token.encode()).hexdigest()


class SessionEndReason(models.TextChoices):
    LOGOUT = "LOGOUT", "Logged out"
    REVOKED = "REVOKED", "Revoked by the user"
    REUSE = "REUSE", "A rotated refresh token was presented again"
    EXPIRED = "EXPIRED", "Idle or absolute limit reached"
    ALL_SESSIONS = "ALL_SESSIONS", "All sessions ended (logout everywhere, password change, deactivation)"


class SessionFamily(models.Model):
    """One login: the chain of refresh tokens rotated from it (RFC 9700 token family)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_families")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(default=timezone.now)
    user_agent = models.CharField(max_length=256, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=SessionEndReason.choices, blank=True)

    class Meta:
        ordering = ["-last_used_at", "id"]
        indexes = [models.Index(fields=["user", "revoked_at"])]
        verbose_name_plural = "session families"

    def __str__(self) -> str:
        return f"session {self.id} of {self.user_id}"


class RefreshToken(AbstractRefreshToken):
    """django-graphql-jwt's refresh token (JWT_REFRESH_TOKEN_MODEL), kept only as a SHA-256 digest.

    `token` holds the digest; the clear value lives on the instance that created it
    (`get_token()`) and in the response, nowhere else.
    """

    # Its own reverse name: graphql_jwt's concrete model (still installed, now unused) has "refresh_tokens".
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_tokens")
    family = models.ForeignKey(SessionFamily, on_delete=models.CASCADE, related_name="tokens")

    class Meta(AbstractRefreshToken.Meta):
        abstract = False
        constraints = [models.UniqueConstraint(fields=["token"], name="users_refresh_token_digest_unique")]
        unique_together = ()

    def __str__(self) -> str:
        return f"refresh token {self.pk} of session {self.family_id}"

    def save(self, *args, **kwargs):
        if not self.token:
            self._cached_token = self.generate_token()
            self.token = refresh_token_digest(self._cached_token)
        super().save(*args, **kwargs)

    def get_token(self) -> str:
        """The clear token: only on the instance that just created it."""
        try:
            return self._cached_token
        except AttributeError:
            raise ValueError("The clear refresh token is never stored; only its creator has it.") from None

    def reuse(self, request=None):
        raise NotImplementedError("Refresh tokens rotate; JWT_REUSE_REFRESH_TOKENS must stay off.")


class LoginFailure(models.Model):
    """One wrong password for a username, from any IP: what the per-username budget counts.

    Keyed by a keyed digest of the username (users.lockout), never the name itself: people type
    passwords into the username field, and unknown names are counted like known ones.
    """

    username_digest = models.CharField(max_length=64)
    failed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["username_digest", "failed_at"]),
            models.Index(fields=["failed_at"]),
        ]

    def __str__(self) -> str:
        return f"login failure at {self.failed_at:%Y-%m-%d %H:%M:%S}"


class AccountTokenPurpose(models.TextChoices):
    INVITATION = "INVITATION", "Invitation: set a first password"
    PASSWORD_RESET = "PASSWORD_RESET", "Password reset"


class AccountToken(models.Model):
    """A single-use link token (invitation or password reset), kept only as its SHA-256.

    A reset request for an address that has no account still writes a row, bound to nobody and
    never redeemable: the request does the same work whether the address is known or not, and the
    rows of an address and of an IP are what the reset rate limits count (users.password_reset).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    purpose = models.CharField(max_length=16, choices=AccountTokenPurpose.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="account_tokens"
    )
    digest = models.CharField(max_length=64, unique=True)
    # Password resets only: a keyed digest of the address asked for, and the asking IP (rate limits).
    address_digest = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["purpose", "address_digest", "created_at"]),
            models.Index(fields=["purpose", "ip", "created_at"]),
            models.Index(fields=["user", "purpose"]),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} token {self.pk}"
