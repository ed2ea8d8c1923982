from django.contrib import admin

from audit.models import AuditEvent
from users.admin_read_only import ReadOnlyAdminMixin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: the trail is append-only, and only the application appends to it."""

    list_display = ("sequence", "created_at", "action", "outcome", "actor", "patient", "object_type", "object_id")
    list_filter = ("action", "outcome")
    search_fields = ("request_id", "object_id")
    ordering = ("-sequence",)
    list_select_related = ("actor", "patient__user")
