"""Test data built through the real services, as the application itself builds it."""

import datetime
import itertools

from django.contrib.auth.models import Permission

from care.models import Assignment
from care.services import assignment_create, assignment_end
from records.services import patient_register
from users.models import Doctor, Patient, User
from users.services import doctor_create, user_create

PASSWORD = "correct-horse-battery-staple"
_sequence = itertools.count(1)


ASSIGNMENT_PERMISSIONS = ("add_assignment", "change_assignment")


def make_staff(*, username: str | None = None, permissions: tuple[str, ...] = ASSIGNMENT_PERMISSIONS) -> User:
    n = next(_sequence)
    username = username or f"staff{n}"
    user = user_create(
        username=username, email=f"{username}@clinic.example", password=PASSWORD,
        first_name="Sam", last_name=f"Staff{n}", is_staff=True,
    )
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="care", codename__in=permissions))
    return User.objects.get(pk=user.pk)


def make_doctor(*, username: str | None = None, specialty: str = "Cardiology") -> Doctor:
    n = next(_sequence)
    username = username or f"doctor{n}"
    user = user_create(
        username=username, email=f"{username}@clinic.example", password=PASSWORD,
        first_name="Dana", last_name=f"Doctor{n}",
    )
    return doctor_create(user=user, specialty=specialty, license_number=f"LIC-{n:06d}")


def make_patient(*, username: str | None = None) -> Patient:
    n = next(_sequence)
    username = username or f"patient{n}"
    return patient_register(
        username=username, email=f"{username}@clinic.example", password=PASSWORD,
        first_name="Pat", last_name=f"Patient{n}", date_of_birth=datetime.date(1980, 1, 1),
    )


def assign(*, doctor: Doctor, patient: Patient, by: User | None = None) -> Assignment:
    return assignment_create(actor=by or make_staff(), doctor=doctor, patient=patient)


def end(assignment: Assignment, *, by: User | None = None) -> Assignment:
    return assignment_end(actor=by or make_staff(), assignment=assignment)


EMERGENCY_REASON = "Emergency admission at night, no assigned doctor reachable."


def break_glass(*, doctor: Doctor, patient: Patient, reason: str = EMERGENCY_REASON):
    """An emergency access of `doctor` to `patient`, as requestEmergencyAccess makes it (issue 18)."""
    from django.test import RequestFactory

    from care.emergency import emergency_access_request

    return emergency_access_request(
        actor=doctor.user, patient_id=patient.pk, reason=reason, password=PASSWORD, code=None,
        request=RequestFactory().post("/graphql/"),
    )
