from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "care"
    verbose_name = "Care assignments"

    def ready(self) -> None:
        # Emergency grants end by time inside records' access check (records.selectors, care/emergency.py).
        from care.emergency import HOLDS_EMERGENCY_ACCESS, TIMED_GRANTS, holds_emergency_access
        from records.selectors import record_timed_grants_register
        from users.tokens import USER_REQUEST_FACTS

        record_timed_grants_register(TIMED_GRANTS)
        # Loaded with the request's user, in its one query: the read audit asks which records a
        # doctor read under a grant only when they hold one (schema/audit/reads.py).
        USER_REQUEST_FACTS[HOLDS_EMERGENCY_ACCESS] = holds_emergency_access
