from typing import Annotated

import strawberry
import strawberry_django
from strawberry import relay
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from records.models import Annotation, BloodType, HealthRecord
from records.selectors import record_ids_visible_to
from schema.audit.types import HealthRecordRevisionType
from schema.pagination import connection
from schema.users.types import DoctorType

BloodTypeEnum = strawberry.enum(BloodType, name="BloodType", description="ABO/Rh blood group.")


def _user(info: Info):
    return info.context.request.user


@strawberry_django.type(Annotation, name="Annotation", description="A doctor's note on a health record. Append-only.")
class AnnotationType(relay.Node):
    author: DoctorType = strawberry_django.field(description="The doctor who wrote it.")
    body: str = strawberry_django.field(description="The note.")
    created_at: strawberry.auto = strawberry_django.field(description="When it was written.")
    retracted_at: strawberry.auto = strawberry_django.field(
        description="When its author retracted it (entered in error), if ever."
    )

    @strawberry_django.field(description="Why it was retracted; null while it stands.", only=["retraction_reason"])
    def retraction_reason(self, root: Annotation) -> str | None:
        return root.retraction_reason or None

    @classmethod
    def get_queryset(cls, queryset, info: Info, **kwargs):
        # Applied wherever annotations are loaded, including the optimizer's prefetches: the filter
        # of annotations_visible_to, one IN over the caller's guardian rows. (Not `pk IN (that
        # queryset)`, a second nesting; not a correlated EXISTS, 6x slower on SQLite at 1,000
        # records: bench.worklist.)
        return queryset.filter(record_id__in=record_ids_visible_to(user=_user(info)))


@strawberry_django.type(HealthRecord, name="HealthRecord", description="A patient's health record (PHI).")
class HealthRecordType(relay.Node):
    patient: Annotated["PatientType", strawberry.lazy("schema.users.types")] = strawberry_django.field(  # noqa: F821
        description="Whose record this is."
    )
    allergies: str = strawberry_django.field(description="Known allergies.")
    medications: str = strawberry_django.field(description="Current medications.")
    conditions: str = strawberry_django.field(description="Known conditions.")
    notes: str = strawberry_django.field(description="The patient's own notes.")
    updated_at: strawberry.auto = strawberry_django.field(description="When the record last changed.")
    annotations: DjangoListConnection[AnnotationType] = connection(description="Doctors' annotations, newest first.")
    history: DjangoListConnection[HealthRecordRevisionType] = connection(
        field_name="revisions", description="Every change of the record, newest first: who, when, old and new values."
    )

    @strawberry_django.field(description="Blood type, if known.", only=["blood_type"])
    def blood_type(self, root: HealthRecord) -> BloodTypeEnum | None:
        return BloodType(root.blood_type) if root.blood_type else None

    @strawberry_django.field(description="Height in centimetres (30-300).", only=["height_cm"])
    def height_cm(self, root: HealthRecord) -> float | None:
        return float(root.height_cm) if root.height_cm is not None else None

    @strawberry_django.field(description="Weight in kilograms (1-700).", only=["weight_kg"])
    def weight_kg(self, root: HealthRecord) -> float | None:
        return float(root.weight_kg) if root.weight_kg is not None else None

    @classmethod
    def get_queryset(cls, queryset, info: Info, **kwargs):
        return queryset.filter(pk__in=record_ids_visible_to(user=_user(info)))  # records_visible_to's filter
