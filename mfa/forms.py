"""The admin login form with the second factor: the API's rules (issue 17) at /admin/login/ too."""

from django import forms
from django.core.exceptions import ValidationError

from mfa.services import mfa_required_for, totp_enabled_for, totp_verify_in_attempt
from users.forms import LockoutAdminAuthenticationForm
from users.lockout import login_attempt


class MfaAdminAuthenticationForm(LockoutAdminAuthenticationForm):
    """Password and, when the account has TOTP on, its code (or a recovery code), in one critical section.

    A wrong code counts like a wrong password; the username+IP count is reset only by a complete
    login. An account whose role is in MFA_REQUIRED_ROLES and has no TOTP cannot sign in here:
    it enrols through the API first (the admin has no enrolment).
    """

    otp_code = forms.CharField(
        label="Authenticator code",
        required=False,
        max_length=64,
        strip=True,
        help_text="The 6-digit code from your authenticator app (or a recovery code), if your account has TOTP on.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    error_messages = {
        **LockoutAdminAuthenticationForm.error_messages,
        "code_required": "Enter the code from your authenticator app.",
        "wrong_code": "The code is incorrect or was already used.",
        "enrol_first": "Your role requires a second factor: enrol an authenticator app in the clinic app first.",
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data
        problem = None
        with login_attempt(self.request, username) as attempt:
            user = attempt.authenticate(password, reset=False)
            if user is not None:
                if totp_enabled_for(user=user):
                    code = self.cleaned_data.get("otp_code")
                    if not code:
                        problem = "code_required"
                    elif not totp_verify_in_attempt(user=user, code=code, attempt=attempt):
                        problem = "wrong_code"
                elif mfa_required_for(user=user):
                    problem = "enrol_first"
                if problem is None:
                    attempt.succeeded()
        # Raised after the block: raising inside would roll a recorded failure back.
        if attempt.refusal is not None:
            raise ValidationError(self.error_messages["locked_out"], code="locked_out")
        if user is None:
            raise self.get_invalid_login_error()
        if problem is not None:
            raise ValidationError(self.error_messages[problem], code=problem)
        self.user_cache = user
        self.confirm_login_allowed(user)
        return self.cleaned_data
