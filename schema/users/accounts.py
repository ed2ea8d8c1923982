"""The account lifecycle: registration with an invitation, accepting it, password reset, deactivation.

Thin over care.accounts (registration, reset requests: they write the outbox) and users.invitations,
users.password_reset, users.accounts.
"""

import datetime

import strawberry
from strawberry.types import Info

from audit.context import current_origin
from care.accounts import (
    doctor_register_with_invitation,
    password_reset_request_mail,
    patient_register_with_invitation,
)
from schema.auth import TokenAuthPayload, session_payload
from schema.permissions import AllowAny, IsStaffWithPermission, current_user, guard
from schema.relay import decode_global_id
from schema.users.types import UserType
from users.accounts import REFUSAL, user_deactivate_by, user_reactivate_by
from users.invitations import invitation_accept
from users.password_reset import password_reset
from users.permissions import UserPermission


@strawberry.input(name="RegisterPatientInput", description="A new patient; they get an email to set their password.")
class RegisterPatientInput:
    email: str = strawberry.field(description="Their email address, where the invitation goes; unique.")
    first_name: str = strawberry.field(description="Given name.")
    last_name: str = strawberry.field(description="Family name.")
    date_of_birth: datetime.date = strawberry.field(description="Date of birth; not in the future.")
    username: str | None = strawberry.field(default=None, description="Login name; the email address if omitted.")


@strawberry.input(name="RegisterDoctorInput", description="A new doctor; they get an email to set their password.")
class RegisterDoctorInput:
    email: str = strawberry.field(description="Their email address, where the invitation goes; unique.")
    first_name: str = strawberry.field(description="Given name.")
    last_name: str = strawberry.field(description="Family name.")
    specialty: str = strawberry.field(description="Medical specialty.")
    license_number: str = strawberry.field(description="Licence number; unique.")
    username: str | None = strawberry.field(default=None, description="Login name; the email address if omitted.")


@strawberry.input(name="AcceptInvitationInput", description="Set your first password with the invitation's token.")
class AcceptInvitationInput:
    token: str = strawberry.field(description="The `token` parameter of the invitation's link.")
    password: str = strawberry.field(description="Your password; Django's password validators apply.")


@strawberry.input(name="RequestPasswordResetInput", description="Ask for a password reset link.")
class RequestPasswordResetInput:
    email: str = strawberry.field(description="The email address of the account.")


@strawberry.input(name="ResetPasswordInput", description="Set a new password with a reset link's token.")
class ResetPasswordInput:
    token: str = strawberry.field(description="The `token` parameter of the reset link.")
    new_password: str = strawberry.field(description="The new password; Django's password validators apply.")


@strawberry.input(name="DeactivateUserInput", description="The account to deactivate.")
class DeactivateUserInput:
    id: strawberry.ID = strawberry.field(description="The user's global ID.")


@strawberry.input(name="ReactivateUserInput", description="The account to reactivate.")
class ReactivateUserInput:
    id: strawberry.ID = strawberry.field(description="The user's global ID.")


@strawberry.type(name="RegisterAccountPayload", description="A registered account, invited by email.")
class RegisterAccountPayload:
    user: UserType = strawberry.field(description="The new account; it has no usable password until invited.")


@strawberry.type(name="RequestPasswordResetPayload", description="The same answer for every address.")
class RequestPasswordResetPayload:
    accepted: bool = strawberry.field(
        description="Always true: if the address belongs to an active account, a link valid 30 minutes is on "
        "its way. The answer never says whether it does."
    )


@strawberry.type(name="ResetPasswordPayload", description="Result of a password reset.")
class ResetPasswordPayload:
    reset: bool = strawberry.field(
        description="True: the password is changed and every session of the account has ended. Sign in with it."
    )


@strawberry.type(name="UserActivationPayload", description="An account after deactivation or reactivation.")
class UserActivationPayload:
    # Not the User itself: its name would be a patient's demographics, handed out unaudited.
    id: strawberry.ID = strawberry.field(description="The user's global ID, as sent.")
    is_active: bool = strawberry.field(description="Whether the account may sign in now.")


def _base_url(info: Info) -> str:
    # This server's own address, for links when FRONTEND_URL is unset (Host checked by ALLOWED_HOSTS).
    return info.context.request.build_absolute_uri("/")


@strawberry.type
class AccountsMutation:
    @strawberry.mutation(
        description="Register a patient with an empty health record and email them an invitation (staff with "
        "users.add_user). The link works once, for 72 hours.",
        extensions=guard(IsStaffWithPermission(UserPermission.ADD_USER, refusal=REFUSAL)),
    )
    def register_patient(self, info: Info, input: RegisterPatientInput) -> RegisterAccountPayload:
        patient = patient_register_with_invitation(
            actor=current_user(info),
            email=input.email,
            first_name=input.first_name,
            last_name=input.last_name,
            date_of_birth=input.date_of_birth,
            username=input.username or "",
            base_url=_base_url(info),
        )
        return RegisterAccountPayload(user=patient.user)

    @strawberry.mutation(
        description="Register a doctor and email them an invitation (staff with users.add_user). The link works "
        "once, for 72 hours.",
        extensions=guard(IsStaffWithPermission(UserPermission.ADD_USER, refusal=REFUSAL)),
    )
    def register_doctor(self, info: Info, input: RegisterDoctorInput) -> RegisterAccountPayload:
        doctor = doctor_register_with_invitation(
            actor=current_user(info),
            email=input.email,
            first_name=input.first_name,
            last_name=input.last_name,
            specialty=input.specialty,
            license_number=input.license_number,
            username=input.username or "",
            base_url=_base_url(info),
        )
        return RegisterAccountPayload(user=doctor.user)

    @strawberry.mutation(
        description="Set your first password with an invitation's token, and sign in (the answer of "
        "`tokenAuth`). The token works once.",
        extensions=guard(AllowAny()),
    )
    def accept_invitation(self, info: Info, input: AcceptInvitationInput) -> TokenAuthPayload:
        user, refresh = invitation_accept(token=input.token, password=input.password)
        return session_payload(info, user, refresh)

    @strawberry.mutation(
        description="Ask for a password reset link by email. The answer is the same whether or not the address "
        "has an account; limited per address and per IP (RATE_LIMITED with retryAfter).",
        extensions=guard(AllowAny()),
    )
    def request_password_reset(self, info: Info, input: RequestPasswordResetInput) -> RequestPasswordResetPayload:
        password_reset_request_mail(email=input.email, ip=current_origin().ip, base_url=_base_url(info))
        return RequestPasswordResetPayload(accepted=True)

    @strawberry.mutation(
        description="Set a new password with a reset link's token (once, within 30 minutes). Every session and "
        "access token of the account ends; sign in again.",
        extensions=guard(AllowAny()),
    )
    def reset_password(self, info: Info, input: ResetPasswordInput) -> ResetPasswordPayload:
        password_reset(token=input.token, new_password=input.new_password)
        return ResetPasswordPayload(reset=True)

    @strawberry.mutation(
        description="Deactivate an account (staff with users.deactivate_user): it cannot sign in, its sessions and "
        "access tokens end at once, and a deactivated doctor cannot be assigned.",
        extensions=guard(IsStaffWithPermission(UserPermission.DEACTIVATE_USER, refusal=REFUSAL)),
    )
    def deactivate_user(self, info: Info, input: DeactivateUserInput) -> UserActivationPayload:
        user_id = decode_global_id(input.id, expected_type="User", field="id", pk_type=int)
        user = user_deactivate_by(actor=current_user(info), user_id=user_id)
        return UserActivationPayload(id=input.id, is_active=user.is_active)

    @strawberry.mutation(
        description="Let a deactivated account sign in again (staff with users.deactivate_user).",
        extensions=guard(IsStaffWithPermission(UserPermission.DEACTIVATE_USER, refusal=REFUSAL)),
    )
    def reactivate_user(self, info: Info, input: ReactivateUserInput) -> UserActivationPayload:
        user_id = decode_global_id(input.id, expected_type="User", field="id", pk_type=int)
        user = user_reactivate_by(actor=current_user(info), user_id=user_id)
        return UserActivationPayload(id=input.id, is_active=user.is_active)
