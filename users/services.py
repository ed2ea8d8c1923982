import datetime

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from users.models import Doctor, Patient, User, generate_medical_record_number


@transaction.atomic
def user_create(
    *,
    username: str,
    email: str,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    is_staff: bool = False,
) -> User:
    user = User(
        username=username,
        email=User.objects.normalize_email(email),
        first_name=first_name,
        last_name=last_name,
        is_staff=is_staff,
    )
    user.set_unusable_password()
    user.full_clean()
    if password:
        # Django's password validators apply to every password the application sets.
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from error
        user.set_password(password)
    user.save()
    return user


def _ensure_no_profile(user: User, *, wanted: str) -> None:
    if Doctor.objects.filter(user=user).exists() or Patient.objects.filter(user=user).exists():
        raise ValidationError({"user": [f"This user already has a profile and cannot become a {wanted}."]})


@transaction.atomic
def doctor_create(*, user: User, specialty: str, license_number: str) -> Doctor:
    """Make `user` a doctor. A user is a patient, a doctor, or neither; never both."""
    _ensure_no_profile(user, wanted="doctor")
    doctor = Doctor(user=user, specialty=specialty, license_number=license_number)
    doctor.full_clean(exclude=["user"])
    doctor.save()
    return doctor


@transaction.atomic
def patient_profile_create(*, user: User, date_of_birth: datetime.date) -> Patient:
    """The patient profile alone; records.services.patient_register adds the health record."""
    _ensure_no_profile(user, wanted="patient")
    if date_of_birth > datetime.date.today():
        raise ValidationError({"date_of_birth": ["Date of birth cannot be in the future."]})
    for _attempt in range(5):
        patient = Patient(
            user=user,
            date_of_birth=date_of_birth,
            medical_record_number=generate_medical_record_number(),
        )
        try:
            with transaction.atomic():
                patient.save()
        except IntegrityError:
            if Patient.objects.filter(user=user).exists():
                raise
            continue  # medical record number collision: draw another
        return patient
    raise RuntimeError("Could not allocate a unique medical record number.")
