from django.contrib import admin, messages

from care.models import Assignment, Notification
from care.notifications import notification_retry
from care.services import assignment_end
from users.admin_read_only import ReadOnlyAdminMixin
from users.errors import Conflict


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only list; assignments change only through the services (they grant access)."""

    list_display = ("doctor", "patient", "assigned_by", "created_at", "ended_at")
    list_filter = ("ended_at",)
    list_select_related = ("doctor__user", "patient__user", "assigned_by")
    actions = ["end_assignments"]

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
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The outbox, read-only: what was sent, what waits for a retry, what failed and why.

    Rows change only through care.notifications; FAILED rows can be queued again.
    """

    list_display = (
        "created_at", "kind", "to_email", "status", "attempts", "last_error_summary", "next_attempt_at", "sent_at"
    )
    list_filter = ("status", "kind")
    search_fields = ("to_email", "id")
    ordering = ("-created_at", "-id")
    readonly_fields = [field.name for field in Notification._meta.fields]
    actions = ["retry_notifications"]

    @admin.display(description="last error")
    def last_error_summary(self, obj: Notification) -> str:
        return obj.last_error[:120]

    @admin.action(description="Retry selected failed notifications", permissions=["retry"])
    def retry_notifications(self, request, queryset) -> None:
        retried = sum(notification_retry(actor=request.user, notification=row) for row in queryset)
        skipped = len(queryset) - retried
        self.message_user(
            request,
            f"Queued {retried} notification(s) again; skipped {skipped} that had not failed.",
            messages.SUCCESS if retried else messages.WARNING,
        )

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("care.change_notification")
