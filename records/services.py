import datetime
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.services import audit_event_record
from records.models import Annotation, HealthRecord, HealthRecordRevision, HealthRecordUserObjectPermission
from records.permissions import RecordPermission
from records.selectors import (
    annotation_get_for,
    annotation_refusal_note,
    user_holds_record_permission,
    user_record_permission_held,
)
from users.errors import Conflict
from users.models import Doctor, Patient, User
from users.services import patient_profile_create, user_create

UPDATABLE_RECORD_FIELDS = (
    "blood_type",
    "allergies",
    "medications",
    "conditions",
    "notes",
    "height_cm",
    "weight_kg",
)


def _require_text(field: str, value: str) -> str:
    if not value or not value.strip():
        raise ValidationError({field: ["This field cannot be blank."]})
    return value


@transaction.atomic
def patient_register(
    *,
    username: str,
    email: str,
    date_of_birth: datetime.date,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    actor: User | None = None,
) -> Patient:
    """A patient with their (empty) health record, holding view and change on it."""
    user = user_create(username=username, email=email, password=password, first_name=first_name, last_name=last_name)
    patient = patient_profile_create(user=user, date_of_birth=date_of_birth)
    record = HealthRecord.objects.create(patient=patient)
    record_access_grant(user=user, record=record, permissions=(RecordPermission.VIEW, RecordPermission.CHANGE))
    audit_event_record(actor=actor or user, action=Action.PATIENT_REGISTER, patient=patient, obj=record)
    return patient


def _record_permissions(permissions: tuple[RecordPermission, ...]):
    return Permission.objects.filter(
        content_type__app_label="records", codename__in=[permission.value for permission in permissions]
    )


def record_access_grant(*, user: User, record: HealthRecord, permissions: tuple[RecordPermission, ...]) -> None:
    """Grant object permissions on `record` (guardian's direct FK rows): two queries, however many.

    guardian.shortcuts.assign_perm costs five queries and a savepoint per permission; the rows are
    the same. Call it inside the transaction of the change that justifies the access.
    """
    HealthRecordUserObjectPermission.objects.bulk_create(
        [
            HealthRecordUserObjectPermission(permission=permission, user=user, content_object=record)
            for permission in _record_permissions(permissions)
        ],
        ignore_conflicts=True,
    )


def record_access_revoke(*, user: User, record: HealthRecord, permissions: tuple[RecordPermission, ...]) -> None:
    """Remove object permissions on `record`: one query."""
    HealthRecordUserObjectPermission.objects.filter(
        user=user, content_object=record, permission__in=_record_permissions(permissions)
    ).delete()


def _as_json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    return value


@transaction.atomic
def health_record_update(*, actor: User, record: HealthRecord, changes: dict[str, Any]) -> HealthRecord:
    """Apply the given fields (others stay as they are) and keep a revision of what changed."""
    unknown = set(changes) - set(UPDATABLE_RECORD_FIELDS)
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    record = HealthRecord.objects.select_for_update().get(pk=record.pk)
    if not user_holds_record_permission(user=actor, record=record, permission=RecordPermission.CHANGE):
        raise PermissionDenied("Only the patient may change their health record.")

    diff: dict[str, dict[str, Any]] = {}
    for name, new in changes.items():
        if isinstance(new, float):
            new = Decimal(str(new))
        old = getattr(record, name)
        setattr(record, name, new)
        diff[name] = {"old": old, "new": new}
    record.full_clean(exclude=["patient"])
    # Compare after cleaning, so 70 and 70.0 are the same value.
    diff = {
        name: {"old": _as_json(values["old"]), "new": _as_json(getattr(record, name))}
        for name, values in diff.items()
        if values["old"] != getattr(record, name)
    }
    if not diff:
        return record
    record.save()
    HealthRecordRevision.objects.create(record=record, changed_by=actor, changes=diff)
    audit_event_record(
        actor=actor, action=Action.RECORD_UPDATE, patient=record.patient, obj=record, fields=sorted(diff)
    )
    return record


@transaction.atomic
def annotation_add(*, actor: User, record: HealthRecord, body: str) -> Annotation:
    doctor = Doctor.objects.filter(user=actor).first()
    if doctor is None:
        raise PermissionDenied("Only doctors can annotate health records.")
    # The record's row lock orders this against assignment_end, which takes it too: once we hold
    # it, an unassignment is either committed (and seen below) or waits for this note.
    record = HealthRecord.objects.select_for_update(of=("self",)).select_related("patient").get(pk=record.pk)
    # One query: whether the doctor may annotate, and whether only under emergency access (audited as such).
    held, emergency = user_record_permission_held(user=actor, record=record, permission=RecordPermission.ANNOTATE)
    if not held:
        raise HealthRecord.DoesNotExist("No such health record.")
    _require_text("body", body)
    annotation = Annotation(record=record, author=doctor, body=body)
    annotation.full_clean(exclude=["record", "author"])
    annotation.save()
    audit_event_record(
        actor=actor, action=Action.ANNOTATION_ADD, patient=record.patient, obj=annotation, emergency=emergency
    )
    return annotation


def annotation_retract_for(
    *, actor: User, annotation_id: uuid.UUID | str, reason: str, fields: Iterable[str] = ()
) -> Annotation:
    """Load, authorise and retract an annotation; any refusal is audited (STYLE.md rule 8).

    Hidden and missing alike are refused by annotation_get_for; the service's own refusals (no
    longer assigned, not the author) are audited here, after its transaction has rolled back.
    `fields`: the annotation fields the caller asked for, for the trail.
    """
    annotation = annotation_get_for(
        user=actor, annotation_id=annotation_id, action=Action.ANNOTATION_RETRACT, fields=fields
    )
    try:
        return annotation_retract(actor=actor, annotation=annotation, reason=reason)
    except (Annotation.DoesNotExist, PermissionDenied):
        annotation_refusal_note(
            user=actor, annotation_id=annotation_id, action=Action.ANNOTATION_RETRACT, fields=fields
        )
        raise


@transaction.atomic
def annotation_retract(*, actor: User, annotation: Annotation, reason: str) -> Annotation:
    """Mark an annotation entered-in-error. Only its author, while still assigned."""
    annotation = Annotation.objects.select_for_update().select_related("record", "author").get(pk=annotation.pk)
    held, emergency = user_record_permission_held(
        user=actor, record=annotation.record, permission=RecordPermission.ANNOTATE
    )
    if not held:
        raise Annotation.DoesNotExist("No such annotation.")
    if annotation.author.user_id != actor.pk:
        raise PermissionDenied("Only the author can retract an annotation.")
    if annotation.retracted_at is not None:
        raise Conflict("This annotation is already retracted.")
    _require_text("reason", reason)
    annotation.retracted_at = timezone.now()
    annotation.retraction_reason = reason
    try:
        annotation.full_clean(exclude=["record", "author", "body"])
    except ValidationError as error:
        renamed = {"retraction_reason": "reason"}
        raise ValidationError(
            {renamed.get(name, name): messages for name, messages in error.message_dict.items()}
        ) from error
    annotation.save(update_fields=["retracted_at", "retraction_reason"])
    audit_event_record(
        actor=actor,
        action=Action.ANNOTATION_RETRACT,
        patient=annotation.record.patient,
        obj=annotation,
        emergency=emergency,
    )
    return annotation
