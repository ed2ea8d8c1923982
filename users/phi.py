"""A patient's demographics (DESIGN.md section 2): the fields that identify them, and are PHI.

Staff read them to schedule; those reads are audited. A patient's User carries their name, which
is the same identifier; a doctor's or staff member's name is not PHI.
"""

from django.db import models

from users.models import Patient, User

DEMOGRAPHICS: dict[type[models.Model], frozenset[str]] = {
    Patient: frozenset({"full_name", "date_of_birth", "medical_record_number"}),
    User: frozenset({"first_name", "last_name", "full_name"}),
}


def demographics_models() -> tuple[type[models.Model], ...]:
    return tuple(DEMOGRAPHICS)


def is_demographic_field(*, model: type[models.Model], name: str) -> bool:
    return name in DEMOGRAPHICS.get(model, frozenset())
