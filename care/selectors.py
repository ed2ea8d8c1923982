"""Reads of care data (patients, doctors, assignments), scoped in SQL to the caller."""

import uuid

from django.core.exceptions import ValidationError
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet, Value
from django.utils import timezone

from care.models import Assignment, EmergencyAccess
from users.models import Doctor, Patient, Role, User
from users.selectors import is_staff_member


def active_assignments() -> QuerySet[Assignment]:
    return Assignment.objects.filter(ended_at__isnull=True)


def active_assignments_with_doctors() -> QuerySet[Assignment]:
    """Active assignments with their doctors loaded: a patient's care team."""
    return active_assignments().select_related("doctor__user")


def emergency_accesses_live() -> QuerySet[EmergencyAccess]:
    """Emergency grants in force: not ended, and not expired. The expiry is this SQL condition:
    nothing has to run at the 60th minute for access to end (DESIGN.md section 9)."""
    return EmergencyAccess.objects.filter(ended_at__isnull=True, expires_at__gt=timezone.now())


def patients_visible_to(*, user: User) -> QuerySet[Patient]:
    """Self for a patient, actively assigned ones (or under emergency access) for a doctor, all
    (demographics) for staff."""
    if not user.is_authenticated or not user.is_active:
        return Patient.objects.none()
    role = user.role
    if role == Role.PATIENT:
        return Patient.objects.filter(user=user)
    if role == Role.DOCTOR:
        assigned = active_assignments().filter(doctor__user=user, patient=OuterRef("pk"))
        emergency = emergency_accesses_live().filter(doctor__user=user, patient=OuterRef("pk"))
        return Patient.objects.filter(Exists(assigned) | Exists(emergency))
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


# Set on every assignment assignments_visible_to returns: may the caller see its patient's
# demographics? Only through patients_visible_to, the one rule, so a formerly assigned doctor keeps
# the ended assignment (its dates) but not whom it was about.
PATIENT_VISIBLE = "patient_visible"


def assignments_visible_to(*, user: User, active: bool | None = None) -> QuerySet[Assignment]:
    """Own assignments for patients and doctors, all of them for staff; each with PATIENT_VISIBLE."""
    if not user.is_authenticated or not user.is_active:
        return Assignment.objects.none()
    role = user.role
    if role == Role.PATIENT:
        assignments = Assignment.objects.filter(patient__user=user)
        patient_visible = Value(True, output_field=BooleanField())
    elif role == Role.DOCTOR:
        assignments = Assignment.objects.filter(doctor__user=user)
        # Visible while the doctor has an active assignment to that patient (this one or a later one).
        patient_visible = Exists(patients_visible_to(user=user).filter(pk=OuterRef("patient_id")))
    elif is_staff_member(user):
        assignments = Assignment.objects.all()
        patient_visible = Value(True, output_field=BooleanField())
    else:
        return Assignment.objects.none()
    if active is not None:
        assignments = assignments.filter(ended_at__isnull=active)
    return assignments.annotate(**{PATIENT_VISIBLE: patient_visible})


def assignment_patient_visible_to(*, user: User, assignment: Assignment) -> bool:
    """Whether `user` may see the demographics of `assignment`'s patient.

    Free for assignments from assignments_visible_to (PATIENT_VISIBLE); one query otherwise.
    """
    visible = getattr(assignment, PATIENT_VISIBLE, None)
    if visible is None:
        visible = patients_visible_to(user=user).filter(pk=assignment.patient_id).exists()
    return bool(visible)


def assigner_account_visible_to(*, user: User) -> bool:
    """Whether `user` may see the account (username, email) of whoever made an assignment.

    Patients see that staff member by name and role only; doctors and staff, colleagues, see more.
    """
    return user.is_authenticated and user.is_active and user.role != Role.PATIENT


def assignment_get_for(*, user: User, assignment_id: uuid.UUID | str) -> Assignment:
    return assignments_visible_to(user=user).get(pk=assignment_id)
