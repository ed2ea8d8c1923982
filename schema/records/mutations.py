import strawberry
from strawberry.types import Info

from audit.models import Action
from records.models import HealthRecord
from records.permissions import RecordPermission
from records.selectors import record_get_for, record_of_patient_user
from records.services import annotation_add, annotation_retract_for, health_record_update
from schema.audit.reads import ANNOTATION_TYPE, audit_annotation_read, audit_record_read, selected_phi_fields
from schema.permissions import HasRole, current_user, guard
from schema.records.inputs import AddAnnotationInput, RetractAnnotationInput, UpdateHealthRecordInput
from schema.records.types import AnnotationType, HealthRecordType
from schema.relay import decode_global_id
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
        return audit_record_read(info, health_record_update(actor=user, record=record, changes=input.changes()))

    @strawberry.mutation(
        description="Add a note to a health record (assigned doctors).",
        extensions=guard(HasRole(Role.DOCTOR)),
    )
    def add_annotation(self, info: Info, input: AddAnnotationInput) -> AnnotationType:
        user = current_user(info)
        record_pk = decode_global_id(input.record_id, expected_type="HealthRecord", field="recordId")
        record = record_get_for(  # a refusal is audited there, hidden and missing alike
            user=user,
            record_id=record_pk,
            permission=RecordPermission.ANNOTATE,
            action=Action.ANNOTATION_ADD,
            fields=selected_phi_fields(info, ANNOTATION_TYPE),
        )
        return audit_annotation_read(info, annotation_add(actor=user, record=record, body=input.body))

    @strawberry.mutation(
        description="Retract one's own annotation as entered in error (its author, while assigned).",
        extensions=guard(HasRole(Role.DOCTOR)),
    )
    def retract_annotation(self, info: Info, input: RetractAnnotationInput) -> AnnotationType:
        user = current_user(info)
        annotation_pk = decode_global_id(input.id, expected_type="Annotation", field="id")
        annotation = annotation_retract_for(  # every refusal is audited there
            actor=user,
            annotation_id=annotation_pk,
            reason=input.reason,
            fields=selected_phi_fields(info, ANNOTATION_TYPE),
        )
        return audit_annotation_read(info, annotation)
