"""Model permissions of the users app that guard the account lifecycle (staff only)."""

from enum import StrEnum


class UserPermission(StrEnum):
    ADD_USER = "users.add_user"  # register patients and doctors (they get an invitation)
    # Deactivate and reactivate accounts. Not users.change_user, which in the admin edits every
    # field of any user (the superuser flag and permissions included).
    DEACTIVATE_USER = "users.deactivate_user"
