import strawberry
from strawberry.types import Info

from records.models import HealthRecord
from records.permissions import RecordPermission
from records.selectors import annotation_get_for, record_get_for, record_of_patient_user
from records.services import annotation_add, annotation_retract, health_record_update
from schema.pagination import decode_global_id
from schema.permissions import HasRole, current_user, guard
from schema.records.inputs import AddAnnotationInput, RetractAnnotationInput, UpdateHealthRecordInput
from schema.records.types import AnnotationType, HealthRecordType
from users.models import Role


@strawberry.type
class RecordsMutation:
    @strawberry.mutation(
        description="Change fields of the caller's own health record (patients).",
        extensions=guard(HasRole(Role.PATIENT)),
    )
    def update_health_record(self, info: Info, input: UpdateHealthRecordInput) -> HealthRecordType:
        user = current_user(info)
        record = record_of_patient_user(user=user)
        if record is None:
            raise HealthRecord.DoesNotExist("No health record.")
        return health_record_update(actor=user, record=record, changes=input.changes())

    @strawberry.mutation(
        description="Add a note to a health record (assigned doctors).",
        extensions=guard(HasRole(Role.DOCTOR)),
    )
    def add_annotation(self, info: Info, input: AddAnnotationInput) -> AnnotationType:
        user = current_user(info)
        record_pk = decode_global_id(input.record_id, expected_type="HealthRecord", field="recordId")
        record = record_get_for(user=user, record_id=record_pk, permission=RecordPermission.ANNOTATE)
        return annotation_add(actor=user, record=record, body=input.body)

    @strawberry.mutation(
        description="Retract one's own annotation as entered in error (its author, while assigned).",
        extensions=guard(HasRole(Role.DOCTOR)),
    )
    def retract_annotation(self, info: Info, input: RetractAnnotationInput) -> AnnotationType:
        user = current_user(info)
        annotation_pk = decode_global_id(input.id, expected_type="Annotation", field="id")
        annotation = annotation_get_for(user=user, annotation_id=annotation_pk)
        return annotation_retract(actor=user, annotation=annotation, reason=input.reason)
