from enum import StrEnum


class RecordPermission(StrEnum):
    """Object permissions on a HealthRecord, held through guardian's direct FK table."""

    VIEW = "view_healthrecord"
    CHANGE = "change_healthrecord"
    ANNOTATE = "annotate_healthrecord"
