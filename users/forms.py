"""Forms of the users app that Django's admin uses instead of its own."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from users.lockout import LOCKED_OUT_MESSAGE, login_attempt


class LockoutAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin login form, with its password check inside users.lockout's critical section.

    Django's form calls authenticate() on its own: axes would refuse a locked-out pair, but its
    check, the hash and the recording of a failure would not be serialised with the API's
    attempts, and a success would reset the count only after the lock was gone.
    """

    error_messages = {**AdminAuthenticationForm.error_messages, "locked_out": LOCKED_OUT_MESSAGE}

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            with login_attempt(self.request, username) as attempt:
                self.user_cache = attempt.authenticate(password)
            if self.user_cache is None:
                if attempt.refusal is not None:
                    raise ValidationError(self.error_messages["locked_out"], code="locked_out")
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data
