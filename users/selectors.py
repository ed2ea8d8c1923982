"""Reads of users, scoped to what the caller may see."""

from django.db.models import QuerySet

from users.models import Patient, Role, User


def users_visible_to(*, user: User) -> QuerySet[User]:
    """Oneself; every user for staff (no patient or doctor profile, the staff flag)."""
    if not user.is_authenticated or not user.is_active:
        return User.objects.none()
    if user.is_staff and user.role == Role.STAFF:
        return User.objects.all()
    return User.objects.filter(pk=user.pk)


# For the audit trail only, never to answer a caller: whose demographics an attempt was aimed at.
def patient_ids(*, ids) -> list:
    """The ids among `ids` that name an existing patient."""
    return list(Patient.objects.filter(pk__in=list(ids)).values_list("pk", flat=True))
