import uuid

from django.conf import settings
from django.db import models


class Assignment(models.Model):
    """A doctor caring for a patient. At most one active assignment per pair."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    doctor = models.ForeignKey("users.Doctor", on_delete=models.PROTECT, related_name="assignments")
    patient = models.ForeignKey("users.Patient", on_delete=models.PROTECT, related_name="assignments")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Partial unique index: holds under concurrent inserts on PostgreSQL too.
            models.UniqueConstraint(
                fields=["doctor", "patient"],
                condition=models.Q(ended_at__isnull=True),
                name="unique_active_assignment",
            ),
        ]
        indexes = [models.Index(fields=["patient", "ended_at"]), models.Index(fields=["doctor", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.doctor_id} -> {self.patient_id}"

    @property
    def active(self) -> bool:
        return self.ended_at is None


class NotificationStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    SENT = "SENT", "Sent"
    FAILED = "FAILED", "Failed"


class NotificationKind(models.TextChoices):
    DOCTOR_ASSIGNED = "DOCTOR_ASSIGNED", "A patient was assigned to the doctor"


class Notification(models.Model):
    """Outbox row, written in the transaction of its cause and delivered after commit."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    to_email = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    status = models.CharField(
        max_length=8, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_email} ({self.status})"
