import strawberry
import strawberry_django
from strawberry import relay
from strawberry.types import Info

from care.models import Assignment
from care.selectors import assigner_account_visible_to, assignment_patient_visible_to
from schema.audit.reads import audit_demographics_read
from schema.audit.types import AuditActorType, actor_hints, actor_of
from schema.fastpath import direct_resolver
from schema.users.types import DoctorType, PatientType, UserType


@direct_resolver  # lists of assignments: no Strawberry wrapper per row
def _visible_patient(root: Assignment, info: Info):
    user = info.context.request.user
    if not assignment_patient_visible_to(user=user, assignment=root):
        return None  # a formerly assigned doctor: the dates, not whom they were about
    return audit_demographics_read(info, root.patient)


_visible_patient.can_optimize = True  # the optimizer treats it as the relation it reads


@direct_resolver
def _assigner_account(root: Assignment, info: Info):
    return root.assigned_by if assigner_account_visible_to(user=info.context.request.user) else None


_assigner_account.can_optimize = True


@strawberry_django.type(Assignment, name="Assignment", description="A doctor caring for a patient.")
class AssignmentType(relay.Node):
    doctor: DoctorType = strawberry_django.field(description="The assigned doctor.")
    patient: PatientType | None = strawberry_django.field(
        resolver=_visible_patient,
        field_name="patient",
        description=(
            "The patient in their care; null where the caller may no longer see them (a formerly "
            "assigned doctor keeps the ended assignment, not whom it was about)."
        ),
    )
    assigned_by: UserType | None = strawberry_django.field(
        resolver=_assigner_account,
        field_name="assigned_by",
        description=(
            "The staff member who made the assignment, with their account (username, email); null for "
            "the patient, who sees `assigner` (name and role) instead."
        ),
    )
    created_at: strawberry.auto = strawberry_django.field(description="When it started.")
    ended_at: strawberry.auto = strawberry_django.field(description="When it ended; null while active.")

    @strawberry_django.field(
        description="Who made the assignment, by name and role only: what every party to it may see.",
        **actor_hints("assigned_by"),
    )
    def assigner(self, root: Assignment) -> AuditActorType:
        return actor_of(root.assigned_by)

    @strawberry_django.field(description="True until the assignment is ended.", only=["ended_at"])
    def active(self, root: Assignment) -> bool:
        return root.ended_at is None
