"""Reads of PHI, scoped in SQL to what the caller may see. Missing and forbidden look the same."""

import uuid

from django.db.models import QuerySet

from records.models import Annotation, HealthRecord, HealthRecordUserObjectPermission
from records.permissions import RecordPermission
from users.models import User


def record_permission_rows(*, user: User, permission: RecordPermission) -> QuerySet:
    """The guardian rows granting `permission` to `user`; the one place PHI access is decided.

    Staff and superusers get nothing here: their flags grant no PHI access through the API.
    """
    if not user.is_authenticated or not user.is_active:
        return HealthRecordUserObjectPermission.objects.none()
    return HealthRecordUserObjectPermission.objects.filter(
        user_id=user.pk,
        permission__codename=permission.value,
        permission__content_type__app_label="records",
    )


def records_with_permission(*, user: User, permission: RecordPermission) -> QuerySet[HealthRecord]:
    rows = record_permission_rows(user=user, permission=permission)
    return HealthRecord.objects.filter(pk__in=rows.values("content_object_id"))


def records_visible_to(*, user: User) -> QuerySet[HealthRecord]:
    return records_with_permission(user=user, permission=RecordPermission.VIEW)


def record_ids_visible_to(*, user: User) -> QuerySet:
    """The ids of the records `user` may read, as a subquery to filter other querysets with."""
    return record_permission_rows(user=user, permission=RecordPermission.VIEW).values("content_object_id")


def record_get_for(
    *, user: User, record_id: uuid.UUID | str, permission: RecordPermission = RecordPermission.VIEW
) -> HealthRecord:
    """The record if `user` holds `permission` on it; else HealthRecord.DoesNotExist."""
    return records_with_permission(user=user, permission=permission).get(pk=record_id)


def record_of_patient_user(*, user: User) -> HealthRecord | None:
    return records_visible_to(user=user).filter(patient__user=user).first()


def annotations_visible_to(*, user: User) -> QuerySet[Annotation]:
    rows = record_permission_rows(user=user, permission=RecordPermission.VIEW)
    return Annotation.objects.filter(record_id__in=rows.values("content_object_id"))


def annotation_get_for(*, user: User, annotation_id: uuid.UUID | str) -> Annotation:
    return annotations_visible_to(user=user).select_related("record", "author").get(pk=annotation_id)


def user_holds_record_permission(*, user: User, record: HealthRecord, permission: RecordPermission) -> bool:
    return record_permission_rows(user=user, permission=permission).filter(content_object_id=record.pk).exists()


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
