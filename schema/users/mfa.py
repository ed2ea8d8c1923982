"""TOTP second factor: enrol, confirm, disable, finish a login, staff reset. Thin over mfa.services."""

import strawberry
from strawberry.types import Info

from mfa.permissions import MfaPermission
from mfa.services import login_verify, mfa_reset, totp_disable, totp_enrollment_confirm, totp_enrollment_start
from schema.auth import TokenAuthPayload, session_payload
from schema.permissions import AllowAny, IsAuthenticated, IsStaffWithPermission, MayEnrol, current_user, guard
from schema.relay import decode_global_id


@strawberry.type(name="StartTotpEnrollmentPayload", description="A new TOTP secret to add to an authenticator app.")
class StartTotpEnrollmentPayload:
    secret: str = strawberry.field(description="The base32 secret, for typing into the app.")
    otpauth_uri: str = strawberry.field(description="The same as an `otpauth://totp/...` URI, for a QR code.")


@strawberry.input(name="ConfirmTotpEnrollmentInput", description="Turn TOTP on with a first code.")
class ConfirmTotpEnrollmentInput:
    code: str = strawberry.field(description="The 6-digit code the app shows now.")


@strawberry.type(name="ConfirmTotpEnrollmentPayload", description="TOTP is on.")
class ConfirmTotpEnrollmentPayload:
    recovery_codes: list[str] = strawberry.field(
        description="Ten single-use codes that stand in for a TOTP code (a lost phone). Shown only this once."
    )


@strawberry.input(name="DisableTotpInput", description="Turn TOTP off.")
class DisableTotpInput:
    password: str = strawberry.field(description="Your password.")
    code: str = strawberry.field(description="A current TOTP code or an unused recovery code.")


@strawberry.type(name="DisableTotpPayload", description="TOTP is off.")
class DisableTotpPayload:
    disabled: bool = strawberry.field(description="True: TOTP and its recovery codes are gone.")


@strawberry.input(name="VerifyMfaInput", description="Finish a login that answered `mfaRequired`.")
class VerifyMfaInput:
    mfa_token: str = strawberry.field(description="`mfaToken` from `tokenAuth`.")
    code: str = strawberry.field(description="The 6-digit TOTP code, or an unused recovery code.")


@strawberry.input(name="ResetUserMfaInput", description="Reset a user's MFA.")
class ResetUserMfaInput:
    id: strawberry.ID = strawberry.field(description="The user's global ID.")


@strawberry.type(name="ResetUserMfaPayload", description="The user's MFA is reset and their sessions ended.")
class ResetUserMfaPayload:
    # No `user` field: that would be one more path to a patient's name (tests/schema/test_phi_paths.py).
    id: strawberry.ID = strawberry.field(
        description="The user's global ID; they sign in with the password and enrol again."
    )


@strawberry.type
class MfaMutation:
    @strawberry.mutation(
        description="Start TOTP enrolment: a new secret (replacing an unconfirmed one). CONFLICT when TOTP is on.",
        extensions=guard(MayEnrol()),
    )
    def start_totp_enrollment(self, info: Info) -> StartTotpEnrollmentPayload:
        secret, uri = totp_enrollment_start(user=current_user(info))
        return StartTotpEnrollmentPayload(secret=secret, otpauth_uri=uri)

    @strawberry.mutation(
        description="Turn TOTP on with a code from the app; answers ten recovery codes. A wrong code counts "
        "towards the login lockout. An enrol-only session then refreshes its token to get a full one.",
        extensions=guard(MayEnrol()),
    )
    def confirm_totp_enrollment(self, info: Info, input: ConfirmTotpEnrollmentInput) -> ConfirmTotpEnrollmentPayload:
        codes = totp_enrollment_confirm(user=current_user(info), code=input.code, request=info.context.request)
        return ConfirmTotpEnrollmentPayload(recovery_codes=codes)

    @strawberry.mutation(
        description="Turn TOTP off: needs the password and a code; failures count towards the login lockout.",
        extensions=guard(IsAuthenticated()),
    )
    def disable_totp(self, info: Info, input: DisableTotpInput) -> DisableTotpPayload:
        totp_disable(user=current_user(info), password=input.password, code=input.code, request=info.context.request)
        return DisableTotpPayload(disabled=True)

    @strawberry.mutation(
        description="Finish a login that answered `mfaRequired`: the tokens, once the code is right. A code is "
        "accepted once; a recovery code works once in place of one; failures count towards the login lockout.",
        extensions=guard(AllowAny()),
    )
    def verify_mfa(self, info: Info, input: VerifyMfaInput) -> TokenAuthPayload:
        user, refresh = login_verify(request=info.context.request, mfa_token=input.mfa_token, code=input.code)
        return session_payload(info, user, refresh)

    @strawberry.mutation(
        description="Staff (`mfa.reset_mfa`), after checking the person's identity outside the system: remove a "
        "user's TOTP and recovery codes and end their sessions; they enrol again.",
        extensions=guard(IsStaffWithPermission(MfaPermission.RESET_MFA, refusal="You are not allowed to reset MFA.")),
    )
    def reset_user_mfa(self, info: Info, input: ResetUserMfaInput) -> ResetUserMfaPayload:
        user_id = decode_global_id(input.id, expected_type="User", field="id", pk_type=int)
        mfa_reset(acting_user=current_user(info), user_id=user_id)
        return ResetUserMfaPayload(id=input.id)
