from enum import StrEnum


class CarePermission(StrEnum):
    """Model permissions that staff need to run assignments."""

    ADD_ASSIGNMENT = "care.add_assignment"
    CHANGE_ASSIGNMENT = "care.change_assignment"


class EmergencyAccessPermission(StrEnum):
    """Model permissions of staff who oversee emergency access: list it, and review or end it."""

    VIEW = "care.view_emergencyaccess"
    CHANGE = "care.change_emergencyaccess"
