from enum import StrEnum


class CarePermission(StrEnum):
    """Model permissions that staff need to run assignments."""

    ADD_ASSIGNMENT = "care.add_assignment"
    CHANGE_ASSIGNMENT = "care.change_assignment"
