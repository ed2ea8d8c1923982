import strawberry
from strawberry.types import Info

from care.permissions import CarePermission
from care.selectors import assignment_get_for, doctors_visible_to, patients_visible_to
from care.services import assignment_create, assignment_end
from schema.care.inputs import AssignDoctorInput, EndAssignmentInput
from schema.care.types import AssignmentType
from schema.permissions import IsStaffWithPermission, current_user, guard
from schema.relay import decode_global_id


@strawberry.type
class CareMutation:
    @strawberry.mutation(
        description="Assign a doctor to a patient (staff with care.add_assignment).",
        extensions=guard(IsStaffWithPermission(CarePermission.ADD_ASSIGNMENT)),
    )
    def assign_doctor(self, info: Info, input: AssignDoctorInput) -> AssignmentType:
        user = current_user(info)
        doctor_pk = decode_global_id(input.doctor_id, expected_type="Doctor", field="doctorId")
        patient_pk = decode_global_id(input.patient_id, expected_type="Patient", field="patientId")
        doctor = doctors_visible_to(user=user).select_related("user").get(pk=doctor_pk)
        patient = patients_visible_to(user=user).get(pk=patient_pk)
        return assignment_create(actor=user, doctor=doctor, patient=patient)

    @strawberry.mutation(
        description="End an active assignment (staff with care.change_assignment).",
        extensions=guard(IsStaffWithPermission(CarePermission.CHANGE_ASSIGNMENT)),
    )
    def end_assignment(self, info: Info, input: EndAssignmentInput) -> AssignmentType:
        user = current_user(info)
        assignment_pk = decode_global_id(input.id, expected_type="Assignment", field="id")
        assignment = assignment_get_for(user=user, assignment_id=assignment_pk)
        return assignment_end(actor=user, assignment=assignment)
