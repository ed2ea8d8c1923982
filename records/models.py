import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

RECORD_TEXT_MAX_LENGTH = 10_000
ANNOTATION_BODY_MAX_LENGTH = 10_000
RETRACTION_REASON_MAX_LENGTH = 1_000
HEIGHT_RANGE_CM = (Decimal("30"), Decimal("300"))
WEIGHT_RANGE_KG = (Decimal("1"), Decimal("700"))


class BloodType(models.TextChoices):
    A_POSITIVE = "A+", "A+"
    A_NEGATIVE = "A-", "A-"
    B_POSITIVE = "B+", "B+"
    B_NEGATIVE = "B-", "B-"
    AB_POSITIVE = "AB+", "AB+"
    AB_NEGATIVE = "AB-", "AB-"
    O_POSITIVE = "O+", "O+"
    O_NEGATIVE = "O-", "O-"


class HealthRecord(models.Model):
    """One per patient, created with the patient. PHI: see selectors for who may read it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.OneToOneField("users.Patient", on_delete=models.PROTECT, related_name="health_record")
    # NULL, not "", means "not known": the GraphQL enum is nullable and "" is no blood type.
    blood_type = models.CharField(max_length=3, choices=BloodType.choices, null=True, blank=True)  # noqa: DJ001
    allergies = models.TextField(blank=True, validators=[MaxLengthValidator(RECORD_TEXT_MAX_LENGTH)])
    medications = models.TextField(blank=True, validators=[MaxLengthValidator(RECORD_TEXT_MAX_LENGTH)])
    conditions = models.TextField(blank=True, validators=[MaxLengthValidator(RECORD_TEXT_MAX_LENGTH)])
    notes = models.TextField(blank=True, validators=[MaxLengthValidator(RECORD_TEXT_MAX_LENGTH)])
    height_cm = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(HEIGHT_RANGE_CM[0]), MaxValueValidator(HEIGHT_RANGE_CM[1])],
    )
    weight_kg = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(WEIGHT_RANGE_KG[0]), MaxValueValidator(WEIGHT_RANGE_KG[1])],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        permissions = [("annotate_healthrecord", "Can annotate health record")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(height_cm__isnull=True)
                | models.Q(height_cm__gte=HEIGHT_RANGE_CM[0], height_cm__lte=HEIGHT_RANGE_CM[1]),
                name="healthrecord_height_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(weight_kg__isnull=True)
                | models.Q(weight_kg__gte=WEIGHT_RANGE_KG[0], weight_kg__lte=WEIGHT_RANGE_KG[1]),
                name="healthrecord_weight_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Health record {self.id}"


# Direct foreign-key object permissions (guardian): indexed joins instead of the generic table.
class HealthRecordUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(HealthRecord, on_delete=models.CASCADE)


class HealthRecordGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(HealthRecord, on_delete=models.CASCADE)


class HealthRecordRevision(models.Model):
    """One change of a health record: who, when, and each field's old and new value."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    record = models.ForeignKey(HealthRecord, on_delete=models.PROTECT, related_name="revisions")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)
    changes = models.JSONField(help_text="{field: {old, new}}")

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"Revision of {self.record_id} at {self.changed_at:%Y-%m-%d %H:%M:%S}"


class Annotation(models.Model):
    """A doctor's note on a record. Append-only: never edited or deleted, only retracted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    record = models.ForeignKey(HealthRecord, on_delete=models.PROTECT, related_name="annotations")
    author = models.ForeignKey("users.Doctor", on_delete=models.PROTECT, related_name="annotations")
    body = models.TextField(validators=[MaxLengthValidator(ANNOTATION_BODY_MAX_LENGTH)])
    created_at = models.DateTimeField(auto_now_add=True)
    retracted_at = models.DateTimeField(null=True, blank=True)
    retraction_reason = models.TextField(blank=True, validators=[MaxLengthValidator(RETRACTION_REASON_MAX_LENGTH)])

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["record", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=GreaterThan(Length("body"), 0)
                & LessThanOrEqual(Length("body"), ANNOTATION_BODY_MAX_LENGTH),
                name="annotation_body_length",
            ),
            models.CheckConstraint(
                condition=models.Q(retracted_at__isnull=True) | ~models.Q(retraction_reason=""),
                name="annotation_retraction_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Annotation {self.id}"

    @property
    def is_retracted(self) -> bool:
        return self.retracted_at is not None
