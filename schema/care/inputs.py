import strawberry


@strawberry.input(name="AssignDoctorInput", description="Assign a doctor to a patient.")
class AssignDoctorInput:
    doctor_id: strawberry.ID = strawberry.field(description="The doctor's global ID.")
    patient_id: strawberry.ID = strawberry.field(description="The patient's global ID.")


@strawberry.input(name="EndAssignmentInput", description="End an active assignment.")
class EndAssignmentInput:
    id: strawberry.ID = strawberry.field(description="The assignment's global ID.")
