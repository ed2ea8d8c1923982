"""Reads of care data (patients, doctors, assignments), scoped in SQL to the caller."""

import uuid

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet

from care.models import Assignment
from users.models import Doctor, Patient, Role, User


def is_staff_member(user: User) -> bool:
    """Staff: no patient or doctor profile, and the Django staff flag."""
    return user.is_authenticated and user.is_active and user.is_staff and user.role == Role.STAFF


def active_assignments() -> QuerySet[Assignment]:
    return Assignment.objects.filter(ended_at__isnull=True)


def active_assignments_with_doctors() -> QuerySet[Assignment]:
    """Active assignments with their doctors loaded: a patient's care team."""
    return active_assignments().select_related("doctor__user")


def patients_visible_to(*, user: User) -> QuerySet[Patient]:
    """Self for a patient, actively assigned ones for a doctor, all (demographics) for staff."""
    if not user.is_authenticated or not user.is_active:
        return Patient.objects.none()
    role = user.role
    if role == Role.PATIENT:
        return Patient.objects.filter(user=user)
    if role == Role.DOCTOR:
        assigned = active_assignments().filter(doctor__user=user, patient=OuterRef("pk"))
        return Patient.objects.filter(Exists(assigned))
    if is_staff_member(user):
        return Patient.objects.all()
    return Patient.objects.none()


# A person's names and an MRN fit easily; thousands of terms would build a query SQLite refuses
# ("Expression tree is too large") and PostgreSQL plans slowly.
SEARCH_MAX_LENGTH = 200
SEARCH_MAX_TERMS = 10


def patients_search(*, user: User, search: str | None = None) -> QuerySet[Patient]:
    patients = patients_visible_to(user=user)
    if search:
        terms = list(dict.fromkeys(search.split()))
        if len(search) > SEARCH_MAX_LENGTH or len(terms) > SEARCH_MAX_TERMS:
            raise ValidationError(
                {"search": [f"At most {SEARCH_MAX_TERMS} words and {SEARCH_MAX_LENGTH} characters."]}
            )
        for term in terms:
            patients = patients.filter(
                Q(user__first_name__icontains=term)
                | Q(user__last_name__icontains=term)
                | Q(medical_record_number__iexact=term)
            )
    return patients


def doctors_visible_to(*, user: User) -> QuerySet[Doctor]:
    """The doctor directory is open to every signed-in user; it holds no PHI."""
    if not user.is_authenticated or not user.is_active:
        return Doctor.objects.none()
    return Doctor.objects.all()


def assignments_visible_to(*, user: User, active: bool | None = None) -> QuerySet[Assignment]:
    """Own assignments for patients and doctors, all of them for staff."""
    if not user.is_authenticated or not user.is_active:
        return Assignment.objects.none()
    role = user.role
    if role == Role.PATIENT:
        assignments = Assignment.objects.filter(patient__user=user)
    elif role == Role.DOCTOR:
        assignments = Assignment.objects.filter(doctor__user=user)
    elif is_staff_member(user):
        assignments = Assignment.objects.all()
    else:
        return Assignment.objects.none()
    if active is not None:
        assignments = assignments.filter(ended_at__isnull=active)
    return assignments


def assignment_get_for(*, user: User, assignment_id: uuid.UUID | str) -> Assignment:
    return assignments_visible_to(user=user).get(pk=assignment_id)
