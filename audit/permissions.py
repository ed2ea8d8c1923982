from enum import StrEnum


class AuditPermission(StrEnum):
    """Model permissions of the audit trail."""

    VIEW_AUDITEVENT = "audit.view_auditevent"  # auditors (staff) read the whole trail
