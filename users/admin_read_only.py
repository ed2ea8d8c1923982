"""The one read-only admin mixin; in users because every app's admin may import users."""


class ReadOnlyAdminMixin:
    """No add, change or delete in the admin: these rows change only through the services.

    Views and admin actions (which check their own permissions) still work; put it before
    admin.ModelAdmin in the bases.
    """

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
