"""Model permissions of the users app that guard the account lifecycle (staff only)."""

from enum import StrEnum


class UserPermission(StrEnum):
    ADD_USER = "users.add_user"  # register patients and doctors (they get an invitation)
    CHANGE_USER = "users.change_user"  # deactivate and reactivate accounts
