"""Staff deactivate and reactivate accounts. Registering one (with its invitation) is care.accounts."""

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction

from audit.models import Action
from audit.services import audit_event_record
from users.models import User
from users.permissions import UserPermission
from users.selectors import is_staff_member
from users.sessions import user_deactivate

REFUSAL = "You are not allowed to manage accounts."


def require_account_manager(actor: User, permission: UserPermission) -> None:
    """Staff (no patient or doctor profile) holding `permission`; anyone else is refused."""
    if not is_staff_member(actor) or not actor.has_perm(permission.value):
        raise PermissionDenied(REFUSAL)


def _user_for_update(user_id) -> User:
    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        raise ObjectDoesNotExist("No such user.")
    return user


@transaction.atomic
def user_deactivate_by(*, actor: User, user_id) -> User:
    """Deactivate an account: it cannot sign in, and its sessions and access tokens end at once.

    Deactivating an inactive account changes nothing and is not an error. Nobody deactivates
    themselves (the last staff member could lock everyone out), and only a superuser deactivates a
    superuser (the break-glass account of last resort).
    """
    require_account_manager(actor, UserPermission.DEACTIVATE_USER)
    user = _user_for_update(user_id)
    if user.pk == actor.pk:
        raise ValidationError({"id": ["You cannot deactivate your own account."]})
    if user.is_superuser and not actor.is_superuser:
        raise PermissionDenied("Only a superuser may deactivate a superuser.")
    if user.is_active:
        user_deactivate(user=user)
        audit_event_record(actor=actor, action=Action.USER_DEACTIVATE, obj=user)
    return user


@transaction.atomic
def user_reactivate_by(*, actor: User, user_id) -> User:
    """Let a deactivated account sign in again (with its password; sessions ended stay ended)."""
    require_account_manager(actor, UserPermission.DEACTIVATE_USER)
    user = _user_for_update(user_id)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
        audit_event_record(actor=actor, action=Action.USER_REACTIVATE, obj=user)
    return user


def new_account_errors(*, username: str, email: str, first_name: str, last_name: str) -> dict[str, list[str]]:
    """What is wrong with these fields for a new account, by field (empty: nothing).

    The model's own checks (format, lengths, unique username and address), plus: names are
    required, and an address may not differ from an existing one only in case (password
    reset finds accounts by address, case-insensitively).
    """
    errors: dict[str, list[str]] = {}
    candidate = User(
        username=username, email=User.objects.normalize_email(email), first_name=first_name, last_name=last_name
    )
    candidate.set_unusable_password()
    try:
        candidate.full_clean()
    except ValidationError as error:
        errors.update(error.message_dict)
    for field, value in (("first_name", first_name), ("last_name", last_name)):
        if not value.strip():
            errors.setdefault(field, []).append("This field cannot be blank.")
    if "email" not in errors and User.objects.filter(email__iexact=candidate.email).exists():
        errors["email"] = ["An account with this email address already exists."]
    return errors
