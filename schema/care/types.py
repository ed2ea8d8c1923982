import strawberry
import strawberry_django
from strawberry import relay

from care.models import Assignment
from schema.users.types import DoctorType, PatientType, UserType


@strawberry_django.type(Assignment, name="Assignment", description="A doctor caring for a patient.")
class AssignmentType(relay.Node):
    doctor: DoctorType = strawberry_django.field(description="The assigned doctor.")
    patient: PatientType = strawberry_django.field(description="The patient in their care.")
    assigned_by: UserType = strawberry_django.field(description="The staff member who made the assignment.")
    created_at: strawberry.auto = strawberry_django.field(description="When it started.")
    ended_at: strawberry.auto = strawberry_django.field(description="When it ended; null while active.")

    @strawberry_django.field(description="True until the assignment is ended.", only=["ended_at"])
    def active(self, root: Assignment) -> bool:
        return root.ended_at is None
