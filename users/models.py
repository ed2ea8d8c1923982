import secrets
import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    PATIENT = "PATIENT", "Patient"
    DOCTOR = "DOCTOR", "Doctor"
    STAFF = "STAFF", "Staff"


class User(AbstractUser):
    email = models.EmailField("email address", unique=True)

    REQUIRED_FIELDS = ["email"]

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
