import uuid
from email.utils import parseaddr

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
    PATIENT_DOCTOR_ASSIGNED = "PATIENT_DOCTOR_ASSIGNED", "A doctor can now read the patient's record"
    DOCTOR_ASSIGNMENT_ENDED = "DOCTOR_ASSIGNMENT_ENDED", "One of the doctor's assignments ended"
    PATIENT_ASSIGNMENT_ENDED = "PATIENT_ASSIGNMENT_ENDED", "A doctor can no longer read the patient's record"


class Notification(models.Model):
    """Outbox row, written in the transaction of its cause and delivered after commit.

    The mail is rendered when the row is written (subject, text and HTML bodies, none of
    them carrying PHI), so a retry sends exactly what was first meant. A sender claims a
    row by setting `claimed_by` / `claimed_until` in one conditional UPDATE; a claim whose
    lease ran out (its worker died) may be taken again.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    to_email = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    html_body = models.TextField(blank=True)
    status = models.CharField(
        max_length=8, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_email} ({self.status})"

    @property
    def message_id(self) -> str:
        """Stable across retries, so a receiver can recognise a mail sent twice."""
        domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "clinic.example"
        return f"<notification-{self.id}@{domain}>"
