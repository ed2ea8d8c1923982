import uuid
from email.utils import parseaddr

from django.conf import settings
from django.core.validators import MaxLengthValidator, MinLengthValidator
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


EMERGENCY_REASON_MIN_LENGTH = 20
EMERGENCY_REASON_MAX_LENGTH = 2_000
EMERGENCY_NOTE_MAX_LENGTH = 2_000


class EmergencyVerdict(models.TextChoices):
    JUSTIFIED = "JUSTIFIED", "Justified"
    UNJUSTIFIED = "UNJUSTIFIED", "Unjustified"


class EmergencyAccess(models.Model):
    """A doctor broke the glass: read and annotate on a patient's record until `expires_at`.

    The grant holds the same guardian rows as an assignment; the access check itself stops
    counting them once `expires_at` has passed (records.selectors, care/apps.py), so no job has to
    run for it to end. `ended_at` is set when it ends early (revoked, or superseded by an
    assignment) or, after it lapsed, when a later grant or assignment of the pair closes it: at
    most one grant per pair is open (not ended), which also decides concurrent requests.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    doctor = models.ForeignKey("users.Doctor", on_delete=models.PROTECT, related_name="emergency_accesses")
    patient = models.ForeignKey("users.Patient", on_delete=models.PROTECT, related_name="emergency_accesses")
    reason = models.TextField(
        validators=[MinLengthValidator(EMERGENCY_REASON_MIN_LENGTH), MaxLengthValidator(EMERGENCY_REASON_MAX_LENGTH)]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verdict = models.CharField(max_length=12, choices=EmergencyVerdict.choices, blank=True)
    review_note = models.TextField(blank=True, validators=[MaxLengthValidator(EMERGENCY_NOTE_MAX_LENGTH)])
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "emergency accesses"
        constraints = [
            # Partial unique index: two concurrent requests of one doctor for one patient make one grant.
            models.UniqueConstraint(
                fields=["doctor", "patient"],
                condition=models.Q(ended_at__isnull=True),
                name="unique_open_emergency_access",
            ),
        ]
        indexes = [
            models.Index(fields=["doctor", "ended_at", "expires_at"], name="emergency_doctor_open_idx"),
            models.Index(fields=["reviewed_at", "created_at"], name="emergency_review_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"emergency {self.doctor_id} -> {self.patient_id} until {self.expires_at:%Y-%m-%d %H:%M}"


class NotificationStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    SENT = "SENT", "Sent"
    FAILED = "FAILED", "Failed"


class NotificationKind(models.TextChoices):
    DOCTOR_ASSIGNED = "DOCTOR_ASSIGNED", "A patient was assigned to the doctor"
    PATIENT_DOCTOR_ASSIGNED = "PATIENT_DOCTOR_ASSIGNED", "A doctor can now read the patient's record"
    DOCTOR_ASSIGNMENT_ENDED = "DOCTOR_ASSIGNMENT_ENDED", "One of the doctor's assignments ended"
    PATIENT_ASSIGNMENT_ENDED = "PATIENT_ASSIGNMENT_ENDED", "A doctor can no longer read the patient's record"
    PATIENT_EMERGENCY_ACCESS = "PATIENT_EMERGENCY_ACCESS", "A doctor used emergency access to the patient's record"
    STAFF_EMERGENCY_ACCESS = "STAFF_EMERGENCY_ACCESS", "An emergency access awaits review"
    ACCOUNT_INVITATION = "ACCOUNT_INVITATION", "An invitation to set a first password"
    PASSWORD_RESET = "PASSWORD_RESET", "A link to set a new password"


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
