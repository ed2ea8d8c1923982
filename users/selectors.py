"""Reads of users, scoped to what the caller may see."""

from collections.abc import Iterable

from django.db.models import QuerySet

from audit.models import Action
from audit.services import audit_refusal_note
from users.models import Patient, Role, User


def is_staff_member(user: User) -> bool:
    """Staff: no patient or doctor profile, and the Django staff flag."""
    return user.is_authenticated and user.is_active and user.is_staff and user.role == Role.STAFF


def users_visible_to(*, user: User) -> QuerySet[User]:
    """Oneself; every user for staff (no patient or doctor profile, the staff flag)."""
    if not user.is_authenticated or not user.is_active:
        return User.objects.none()
    if is_staff_member(user):
        return User.objects.all()
    return User.objects.filter(pk=user.pk)


# For the audit trail only, never to answer a caller: whose demographics an attempt was aimed at.
def patient_ids(*, ids) -> list:
    """The ids among `ids` that name an existing patient."""
    return list(Patient.objects.filter(pk__in=list(ids)).values_list("pk", flat=True))


def patient_refusal_note(*, user: User, patient_id, fields: Iterable[str] = ()) -> None:
    """Audit a refused lookup of the patient `patient_id`'s demographics, who may or may not exist (one query).

    Which patients a caller may see is decided by care.selectors.patients_visible_to (assignments
    live there); this is the refusal's half of that access path.
    """
    existing = patient_ids(ids=[patient_id])
    audit_refusal_note(
        actor=user,
        action=Action.DEMOGRAPHICS_READ,
        patient_id=existing[0] if existing else None,
        object_type=Patient._meta.label,
        object_id=patient_id,
        fields=fields,
    )
