"""Step-up: a signed-in user proves again who they are before a sensitive act (emergency access, disableTotp).

The password, and the TOTP code (or a recovery code) when the user has confirmed TOTP, are
checked inside users.lockout's critical section for the username: every wrong password or code
counts towards the same limits as a failed login, and nothing is checked once a limit refuses.
"""

from django.core.exceptions import ValidationError

from users.errors import MfaRequired
from users.lockout import login_attempt
from users.models import User

WRONG_PASSWORD_MESSAGE = "The password is incorrect."
WRONG_CODE_MESSAGE = "The code is incorrect or was already used."
CODE_REQUIRED_MESSAGE = "Send the code from your authenticator app (or a recovery code) as well."


def step_up_verify(*, user: User, password: str, code: str | None, request) -> None:
    """Return if `password` (and `code`, when `user` has confirmed TOTP) is right; raise otherwise.

    Raises RateLimited (RATE_LIMITED, `retry_after`) when a limit refuses or the failure reaches
    one; ValidationError with `password` or `code` (BAD_USER_INPUT) for a wrong one; MfaRequired
    (MFA_REQUIRED) when the user has TOTP and no code was sent (that counts as nothing).
    Signature kept stable: emergency access (issue 18) calls it.
    """
    # Imported here: mfa builds on users (its models point at User), not the other way round.
    from mfa.services import totp_enabled_for, totp_verify_in_attempt

    error: Exception | None = None
    with login_attempt(request, user.get_username()) as attempt:
        checked = attempt.authenticate(password, reset=False)
        if checked is None or checked.pk != user.pk:
            error = ValidationError({"password": [WRONG_PASSWORD_MESSAGE]})
        elif totp_enabled_for(user=user):
            if not code:
                error = MfaRequired(CODE_REQUIRED_MESSAGE)
            elif not totp_verify_in_attempt(user=user, code=code, attempt=attempt):
                error = ValidationError({"code": [WRONG_CODE_MESSAGE]})
        if error is None:
            attempt.succeeded()  # only now: a right password must not wipe the count of wrong codes
    # Raised after the block: raising inside would roll the recorded failure back.
    if attempt.refusal is not None and error is not None:
        raise attempt.refusal
    if error is not None:
        raise error
