"""Permission checks declared on root fields. Every root field carries one (a test checks)."""

from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied
from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info

from mfa.services import ENROL_ONLY, ENROL_ONLY_CLAIM
from users.errors import MfaRequired, NotAuthenticated
from users.models import Role
from users.selectors import is_staff_member

ENROL_FIRST = (
    "Your role requires a second factor: enrol an authenticator app (startTotpEnrollment, then "
    "confirmTotpEnrollment) and refresh your token before anything else."
)


def current_user(info: Info):
    return info.context.request.user


class AllowAny(BasePermission):
    """Public on purpose (login, token refresh): the field checks its own credentials."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return True


class IsAuthenticated(BasePermission):
    # An enrol-only session (mfa.services.ENROL_ONLY_CLAIM) passes only where this is True.
    allows_enrol_only_sessions = False

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        request = info.context.request
        if getattr(request, "token_error", None) is not None:
            raise request.token_error
        if not request.user.is_authenticated:
            raise NotAuthenticated("Authentication required.")
        payload = getattr(request, "token_payload", None) or {}
        if payload.get(ENROL_ONLY_CLAIM) == ENROL_ONLY and not self.allows_enrol_only_sessions:
            raise MfaRequired(ENROL_FIRST)
        return True


class MayEnrol(IsAuthenticated):
    """Signed in, enrol-only sessions included: TOTP enrolment itself."""

    allows_enrol_only_sessions = True


class HasRole(IsAuthenticated):
    """Signed in with one of `roles`; any other role is FORBIDDEN."""

    def __init__(self, *roles: Role) -> None:
        self.roles = roles

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        super().has_permission(source, info, **kwargs)
        if current_user(info).role not in self.roles:
            raise PermissionDenied("Your role does not allow this operation.")
        return True


class IsStaffWithPermission(IsAuthenticated):
    """Staff (no patient or doctor profile) holding a model permission; anyone else is FORBIDDEN."""

    def __init__(self, permission: StrEnum, *, refusal: str = "You are not allowed to manage assignments.") -> None:
        self.permission = permission
        self.refusal = refusal

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        super().has_permission(source, info, **kwargs)
        user = current_user(info)
        if not is_staff_member(user) or not user.has_perm(self.permission.value):
            raise PermissionDenied(self.refusal)
        return True


def guard(*permissions: BasePermission) -> list[FieldExtension]:
    """Field extensions for a root field: all `permissions` must pass, in order."""
    return [PermissionExtension(permissions=list(permissions), use_directives=False)]
