import uuid

from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    RECORD_READ = "RECORD_READ", "Health record read"
    RECORD_UPDATE = "RECORD_UPDATE", "Health record updated"
    ANNOTATION_READ = "ANNOTATION_READ", "Annotations read"
    ANNOTATION_ADD = "ANNOTATION_ADD", "Annotation added"
    ANNOTATION_RETRACT = "ANNOTATION_RETRACT", "Annotation retracted"
    ASSIGNMENT_CREATE = "ASSIGNMENT_CREATE", "Doctor assigned"
    ASSIGNMENT_END = "ASSIGNMENT_END", "Assignment ended"
    PATIENT_REGISTER = "PATIENT_REGISTER", "Patient registered"
    LOGIN_SUCCESS = "LOGIN_SUCCESS", "Login succeeded"
    LOGIN_FAILURE = "LOGIN_FAILURE", "Login failed"


class Outcome(models.TextChoices):
    ALLOWED = "ALLOWED", "Allowed"
    DENIED = "DENIED", "Denied"


class AuditEvent(models.Model):
    """Who did what to which patient's data, when, from where. Append-only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=32, choices=Action.choices)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.ALLOWED)
    patient = models.ForeignKey(
        "users.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    fields = models.JSONField(default=list, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["patient", "created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} by {self.actor_id}"
