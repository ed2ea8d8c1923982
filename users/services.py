import datetime

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from graphql_jwt.refresh_token.shortcuts import create_refresh_token
from graphql_jwt.refresh_token.utils import get_refresh_token_model

from audit.models import Action, Outcome
from audit.services import audit_event_record
from users.errors import NotAuthenticated, TokenError
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
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
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


def session_start(*, request, username: str, password: str) -> tuple[User, "object"]:
    """Password login: the user and a new refresh token. Unknown users and wrong passwords fail alike."""
    user = authenticate(request, username=username, password=password)
    if user is None:
        audit_event_record(actor=None, action=Action.LOGIN_FAILURE, outcome=Outcome.DENIED)
        raise NotAuthenticated("Invalid username or password.")
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    audit_event_record(actor=user, action=Action.LOGIN_SUCCESS)
    return user, create_refresh_token(user)


def _refresh_token_model():
    return get_refresh_token_model()


@transaction.atomic
def session_refresh(*, token: str | None, request=None) -> tuple[User, "object"]:
    """Rotate a refresh token: the presented one is revoked and a new one returned."""
    if not token:
        raise TokenError("TOKEN_INVALID", "A refresh token is required.")
    model = _refresh_token_model()
    refresh = model.objects.select_for_update().select_related("user").filter(token=token).first()
    if refresh is None:
        raise TokenError("TOKEN_INVALID", "The refresh token is invalid.")
    if refresh.revoked is not None:
        raise TokenError("TOKEN_REVOKED", "The refresh token has been revoked.")
    if refresh.is_expired(request):
        raise TokenError("TOKEN_EXPIRED", "The refresh token has expired.")
    if not refresh.user.is_active:
        raise TokenError("TOKEN_INVALID", "The refresh token is invalid.")
    refresh.revoke(request)
    return refresh.user, create_refresh_token(refresh.user)


@transaction.atomic
def session_revoke(*, token: str | None, request=None) -> bool:
    """Logout: revoke the refresh token. Revoking a revoked token is a no-op."""
    if not token:
        raise TokenError("TOKEN_INVALID", "A refresh token is required.")
    refresh = _refresh_token_model().objects.select_for_update().filter(token=token).first()
    if refresh is None:
        raise TokenError("TOKEN_INVALID", "The refresh token is invalid.")
    if refresh.revoked is None:
        refresh.revoke(request)
    return True
