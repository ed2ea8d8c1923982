"""Which record data is PHI (DESIGN.md section 2): what the read audit must record.

Deny by default: every field of these models is PHI except the ones named as not PHI, so a field
added to a model is audited before anyone thinks about it. The API layer maps its own field names
onto these and asks here; it never decides what is PHI itself.
"""

from django.db import models

from records.models import Annotation, HealthRecord, HealthRecordRevision

# Identifiers, and the record's link to its patient: whoever may read a record may see its
# patient's demographics anyway (the patient, their assigned doctors).
NOT_PHI: dict[type[models.Model], frozenset[str]] = {
    HealthRecord: frozenset({"id", "patient"}),
    Annotation: frozenset({"id"}),
    HealthRecordRevision: frozenset({"id"}),
}
# Relations of a record whose rows are its PHI, read as part of it (one audit event for the
# record names "<relation>.<field>" for each).
RECORD_CONTENT = frozenset({"annotations", "revisions"})


def phi_models() -> tuple[type[models.Model], ...]:
    return tuple(NOT_PHI)

