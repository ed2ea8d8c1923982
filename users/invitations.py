"""Accepting an invitation: the invited account sets its first password and is signed in.

Issuing one is part of registering an account (care.accounts, which also writes the mail to
the outbox); this side needs only the users app.
"""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from audit.models import Action, Outcome
from audit.services import audit_event_record
from users.account_tokens import account_token_peek, account_token_redeem
from users.errors import TokenError
from users.models import AccountTokenPurpose, RefreshToken, User
from users.sessions import session_create, sessions_revoke_all


def invitation_accept(*, token: str, password: str) -> tuple[User, RefreshToken]:
    """Set the invited user's password (Django's validators apply) and start a session.

    The token works once: a wrong, used or expired one is TokenError (audited as refused); a
    password the validators refuse leaves the token unused, so the person can try another.
    """
    try:
        row = account_token_peek(purpose=AccountTokenPurpose.INVITATION, token=token)
        user = row.user
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from error
        with transaction.atomic():
            account_token_redeem(row=row)
            user.set_password(password)
            user.save(update_fields=["password"])
            sessions_revoke_all(user=user)  # nothing to end normally; belt and braces
            audit_event_record(actor=user, action=Action.INVITATION_ACCEPT, obj=row)
            refresh = session_create(user=user)
    except TokenError:
        audit_event_record(actor=None, action=Action.INVITATION_ACCEPT, outcome=Outcome.DENIED)
        raise
    return user, refresh
