"""Reads of PHI, scoped in SQL to what the caller may see. Missing and forbidden look the same.

The `*_get_for` access functions load one object, authorise the caller, and audit a refusal
(STYLE.md rule 8): a hidden object and a missing one raise the same DoesNotExist after the same
queries, and both leave the same DENIED event (DESIGN.md section 2: "indistinguishable" covers
cost). For a missing id the event has no patient and names the model and id asked for, so an
actor probing ids shows in the trail whether or not the ids existed.
"""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from audit.models import Action
from audit.services import audit_refusal_note
from records.models import Annotation, HealthRecord, HealthRecordUserObjectPermission
from records.permissions import RecordPermission
from users.models import User


# Emergency access (care's break-the-glass grants, DESIGN.md section 9) holds guardian rows like
# an assignment does, but ends by time: once a grant has lapsed its rows must stop counting at once,
# decided here in SQL, not by a job that deletes them. records may not import care (dependencies
# point down), so care registers two conditions over a user's guardian rows (care/apps.py):
# `lapsed(user)` matches rows that grant nothing any more, `emergency(user)` rows held under a grant
# in force now (the audit marks what is done through them).
@dataclass(frozen=True)
class TimedGrants:
    lapsed: Callable[[User], Q]
    emergency: Callable[[User], Q]


_timed_grants: list[TimedGrants] = []


def record_timed_grants_register(grants: TimedGrants) -> None:
    if grants not in _timed_grants:
        _timed_grants.append(grants)


def _emergency_rows(user: User) -> Q:
    condition = Q(pk__in=[])
    for grants in _timed_grants:
        condition |= grants.emergency(user)
    return condition


def record_permission_rows(*, user: User, permission: RecordPermission) -> QuerySet:
    """The guardian rows granting `permission` to `user`; the one place PHI access is decided.

    Staff and superusers get nothing here: their flags grant no PHI access through the API.
    """
    if not user.is_authenticated or not user.is_active:
        return HealthRecordUserObjectPermission.objects.none()
    rows = HealthRecordUserObjectPermission.objects.filter(
        user_id=user.pk,
        permission__codename=permission.value,
        permission__content_type__app_label="records",
    )
    for grants in _timed_grants:
        rows = rows.exclude(grants.lapsed(user))
    return rows


def records_with_permission(*, user: User, permission: RecordPermission) -> QuerySet[HealthRecord]:
    rows = record_permission_rows(user=user, permission=permission)
    return HealthRecord.objects.filter(pk__in=rows.values("content_object_id"))


def records_visible_to(*, user: User) -> QuerySet[HealthRecord]:
    return records_with_permission(user=user, permission=RecordPermission.VIEW)


def record_ids_visible_to(*, user: User) -> QuerySet:
    """The ids of the records `user` may read, as a subquery to filter other querysets with."""
    return record_permission_rows(user=user, permission=RecordPermission.VIEW).values("content_object_id")


def record_get_for(
    *,
    user: User,
    record_id: uuid.UUID | str,
    permission: RecordPermission = RecordPermission.VIEW,
    action: Action = Action.RECORD_READ,
    fields: Iterable[str] = (),
) -> HealthRecord:
    """The record if `user` holds `permission` on it; else HealthRecord.DoesNotExist, refusal audited.

    `action` and `fields`: what was attempted and which fields were asked for, for the trail.
    """
    try:
        return records_with_permission(user=user, permission=permission).get(pk=record_id)
    except HealthRecord.DoesNotExist:
        record_refusal_note(user=user, record_id=record_id, action=action, fields=fields)
        raise


def record_of_patient_user(*, user: User) -> HealthRecord | None:
    return records_visible_to(user=user).filter(patient__user=user).first()


def annotations_visible_to(*, user: User) -> QuerySet[Annotation]:
    rows = record_permission_rows(user=user, permission=RecordPermission.VIEW)
    return Annotation.objects.filter(record_id__in=rows.values("content_object_id"))


def annotation_get_for(
    *,
    user: User,
    annotation_id: uuid.UUID | str,
    action: Action = Action.ANNOTATION_READ,
    fields: Iterable[str] = (),
) -> Annotation:
    """The annotation if `user` may read its record; else Annotation.DoesNotExist, refusal audited."""
    try:
        return annotations_visible_to(user=user).select_related("record", "author").get(pk=annotation_id)
    except Annotation.DoesNotExist:
        annotation_refusal_note(user=user, annotation_id=annotation_id, action=action, fields=fields)
        raise


def user_holds_record_permission(*, user: User, record: HealthRecord, permission: RecordPermission) -> bool:
    return record_permission_rows(user=user, permission=permission).filter(content_object_id=record.pk).exists()


def user_record_permission_held(*, user: User, record: HealthRecord, permission: RecordPermission) -> tuple[bool, bool]:
    """(holds `permission` on `record`, holds it only under emergency access), in one query."""
    row = (
        record_permission_rows(user=user, permission=permission)
        .filter(content_object_id=record.pk)
        .values_list(ExpressionWrapper(_emergency_rows(user), output_field=BooleanField()), flat=True)
        .first()
    )
    return row is not None, bool(row)


def record_ids_read_under_emergency(*, user: User, record_ids: Iterable) -> set[str]:
    """Which of `record_ids` `user` reads under emergency access (one query; none when no grants exist)."""
    record_ids = list(record_ids)
    if not _timed_grants or not record_ids or not user.is_authenticated:
        return set()
    rows = record_permission_rows(user=user, permission=RecordPermission.VIEW).filter(
        _emergency_rows(user), content_object_id__in=record_ids
    )
    return {str(pk) for pk in rows.values_list("content_object_id", flat=True)}


# For the audit trail only, never to answer a caller: whose data an attempt was aimed at,
# whether or not the caller may see it (a denied attempt on an existing record is audited).
def record_patient_ids(*, record_ids) -> dict:
    """{record id: patient id} for the records that exist among `record_ids`."""
    return dict(HealthRecord.objects.filter(pk__in=list(record_ids)).values_list("pk", "patient_id"))


def annotation_record_ids(*, annotation_id) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """(record id, patient id) of an existing annotation, in one query; (None, None) when there is none."""
    return Annotation.objects.filter(pk=annotation_id).values_list("record_id", "record__patient_id").first() or (
        None,
        None,
    )


def record_refusal_note(*, user: User, record_id, action: Action, fields: Iterable[str] = ()) -> None:
    """Audit a refused attempt on the record `record_id`, which may or may not exist (one query)."""
    patient_id = next(iter(record_patient_ids(record_ids=[record_id]).values()), None)
    audit_refusal_note(
        actor=user,
        action=action,
        patient_id=patient_id,
        object_type=HealthRecord._meta.label,
        object_id=record_id,
        fields=fields,
    )


def annotation_refusal_note(*, user: User, annotation_id, action: Action, fields: Iterable[str] = ()) -> None:
    """Audit a refused attempt on the annotation `annotation_id`, which may or may not exist (one query).

    An existing one is audited against its record (the patient's data it belongs to).
    """
    record_id, patient_id = annotation_record_ids(annotation_id=annotation_id)
    if record_id is None:
        object_type, object_id = Annotation._meta.label, annotation_id
    else:
        object_type, object_id = HealthRecord._meta.label, record_id
    audit_refusal_note(
        actor=user, action=action, patient_id=patient_id, object_type=object_type, object_id=object_id, fields=fields
    )
