from django.contrib import admin, messages

from care.models import Assignment, Notification
from care.services import assignment_end
from users.errors import Conflict


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    """Read-only list; assignments change only through the services (they grant access)."""

    list_display = ("doctor", "patient", "assigned_by", "created_at", "ended_at")
    list_filter = ("ended_at",)
    list_select_related = ("doctor__user", "patient__user", "assigned_by")
    actions = ["end_assignments"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="End selected assignments", permissions=["end"])
    def end_assignments(self, request, queryset) -> None:
        ended = 0
        for assignment in queryset:
            try:
                assignment_end(actor=request.user, assignment=assignment)
                ended += 1
            except Conflict:
                continue
        self.message_user(request, f"Ended {ended} assignment(s).", messages.SUCCESS)

    def has_end_permission(self, request) -> bool:
        return request.user.has_perm("care.change_assignment")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("kind", "to_email", "status", "attempts", "next_attempt_at", "created_at")
    list_filter = ("status", "kind")
    readonly_fields = [field.name for field in Notification._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
