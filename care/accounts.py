"""Account services that span apps: registering a patient (with their health record) or a doctor,
and asking for a password reset, each with its mail written to the outbox in the same transaction.

They live here, at the top of the dependency stack (care -> records -> users), because they need
records' patient registration and the outbox; the token logic, accepting an invitation and
resetting a password need only the users app (users.account_tokens, users.invitations,
users.password_reset).
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from audit.models import Action
from audit.services import audit_event_record
from care.notifications import notifications_enqueue_invitation, notifications_enqueue_password_reset
from records.services import patient_register
from users.account_tokens import account_link, account_token_issue
from users.accounts import new_account_errors, require_account_manager
from users.errors import Conflict
from users.models import AccountTokenPurpose, Doctor, Patient, User
from users.password_reset import password_reset_request
from users.permissions import UserPermission
from users.services import doctor_create, user_create

DUPLICATE_MESSAGE = "An account with this username, email address or licence number was just created."


def _invite(*, actor: User, user: User, base_url: str) -> None:
    _row, token = account_token_issue(purpose=AccountTokenPurpose.INVITATION, user=user)
    link = account_link(purpose=AccountTokenPurpose.INVITATION, token=token, base_url=base_url)
    notifications_enqueue_invitation(recipient=user, link=link)
    audit_event_record(actor=actor, action=Action.ACCOUNT_INVITE, obj=user)


@transaction.atomic
def patient_register_with_invitation(
    *,
    actor: User,
    email: str,
    first_name: str,
    last_name: str,
    date_of_birth: datetime.date,
    username: str = "",
    base_url: str = "",
) -> Patient:
    """A patient account without a usable password, their health record, and an invitation mail.

    Staff with users.add_user only. Every invalid field is reported at once (ValidationError).
    """
    require_account_manager(actor, UserPermission.ADD_USER)
    username = username or email
    errors = new_account_errors(username=username, email=email, first_name=first_name, last_name=last_name)
    if date_of_birth > datetime.date.today():
        errors["date_of_birth"] = ["Date of birth cannot be in the future."]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            patient = patient_register(
                username=username,
                email=email,
                date_of_birth=date_of_birth,
                first_name=first_name,
                last_name=last_name,
                actor=actor,
            )
    except IntegrityError as error:  # a concurrent registration won the unique index
        raise Conflict(DUPLICATE_MESSAGE) from error
    _invite(actor=actor, user=patient.user, base_url=base_url)
    return patient


@transaction.atomic
def doctor_register_with_invitation(
    *,
    actor: User,
    email: str,
    first_name: str,
    last_name: str,
    specialty: str,
    license_number: str,
    username: str = "",
    base_url: str = "",
) -> Doctor:
    """A doctor account without a usable password, their profile, and an invitation mail.

    Staff with users.add_user only. Every invalid field is reported at once (ValidationError).
    """
    require_account_manager(actor, UserPermission.ADD_USER)
    username = username or email
    errors = new_account_errors(username=username, email=email, first_name=first_name, last_name=last_name)
    try:
        Doctor(specialty=specialty, license_number=license_number).full_clean(exclude=["user"])
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            user = user_create(username=username, email=email, first_name=first_name, last_name=last_name)
            doctor = doctor_create(user=user, specialty=specialty, license_number=license_number)
    except IntegrityError as error:
        raise Conflict(DUPLICATE_MESSAGE) from error
    _invite(actor=actor, user=user, base_url=base_url)
    return doctor


@transaction.atomic
def password_reset_request_mail(*, email: str, ip: str | None, base_url: str = "") -> None:
    """Ask for a reset link for `email`: mailed if it has an active account; the same work either way."""
    row, token = password_reset_request(email=email, ip=ip)
    link = account_link(purpose=AccountTokenPurpose.PASSWORD_RESET, token=token, base_url=base_url)
    notifications_enqueue_password_reset(recipient=row.user, link=link)
