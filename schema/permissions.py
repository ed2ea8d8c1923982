"""Permission checks declared on root fields. Every root field carries one (a test checks)."""

from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied
from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info

from users.errors import NotAuthenticated
from users.models import Role
from users.selectors import is_staff_member


def current_user(info: Info):
    return info.context.request.user


class AllowAny(BasePermission):
    """Public on purpose (login, token refresh): the field checks its own credentials."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return True


class IsAuthenticated(BasePermission):
    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        request = info.context.request
        if getattr(request, "token_error", None) is not None:
            raise request.token_error
        if not request.user.is_authenticated:
            raise NotAuthenticated("Authentication required.")
        return True


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
