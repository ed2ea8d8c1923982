"""Emergency access ("break the glass", DESIGN.md section 9): the type, the staff's list, the mutations."""

from collections.abc import Iterable
from typing import Annotated

import strawberry
import strawberry_django
from strawberry import relay
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from care.emergency import (
    emergency_access_active,
    emergency_access_get_for,
    emergency_access_patient_visible_to,
    emergency_access_request,
    emergency_access_review,
    emergency_access_revoke_for,
    emergency_accesses_visible_to,
)
from care.models import EmergencyAccess, EmergencyVerdict
from care.permissions import EmergencyAccessPermission
from schema.audit.reads import audit_demographics_read
from schema.audit.types import AuditActorType, actor_hints, actor_of
from schema.pagination import connection
from schema.permissions import HasRole, IsStaffWithPermission, current_user, guard
from schema.relay import decode_global_id
from schema.users.types import DoctorType, PatientType
from users.models import Role

EmergencyVerdictEnum = strawberry.enum(
    EmergencyVerdict, name="EmergencyVerdict", description="A reviewer's judgement of an emergency access."
)
OVERSEE_REFUSAL = "You are not allowed to oversee emergency access."


def _visible_patient(root: EmergencyAccess, info: Info):
    if not emergency_access_patient_visible_to(user=info.context.request.user, grant=root):
        return None
    return audit_demographics_read(info, root.patient)


_visible_patient.can_optimize = True  # the optimizer treats it as the relation it reads


@strawberry_django.type(
    EmergencyAccess,
    name="EmergencyAccess",
    description=(
        "A doctor's emergency access to a patient's record (break the glass): in force for a while, then reviewed."
    ),
)
class EmergencyAccessType(relay.Node):
    doctor: DoctorType = strawberry_django.field(description="The doctor who broke the glass.")
    patient: PatientType | None = strawberry_django.field(
        resolver=_visible_patient,
        field_name="patient",
        description="Whose record; null for the doctor once the access has ended.",
    )
    reason: str = strawberry_django.field(description="Why the doctor needed access, in their words.")
    created_at: strawberry.auto = strawberry_django.field(description="When it was granted.")
    expires_at: strawberry.auto = strawberry_django.field(description="When it ends unless ended earlier.")
    ended_at: strawberry.auto = strawberry_django.field(
        description="When it was ended early (revoked, or replaced by an assignment); null otherwise."
    )
    reviewed_at: strawberry.auto = strawberry_django.field(description="When it was reviewed; null until then.")
    review_note: str = strawberry_django.field(description="The reviewer's note (empty until reviewed).")

    @strawberry_django.field(
        description="True while the doctor may read and annotate the record.", only=["ended_at", "expires_at"]
    )
    def active(self, root: EmergencyAccess) -> bool:
        return emergency_access_active(root)

    @strawberry_django.field(description="The reviewer's verdict; null until reviewed.", only=["verdict"])
    def verdict(self, root: EmergencyAccess) -> EmergencyVerdictEnum | None:
        return EmergencyVerdict(root.verdict) if root.verdict else None

    @strawberry_django.field(description="Who ended it early, by name and role.", **actor_hints("ended_by"))
    def ended_by(self, root: EmergencyAccess) -> AuditActorType | None:
        return actor_of(root.ended_by)

    @strawberry_django.field(description="Who reviewed it, by name and role.", **actor_hints("reviewed_by"))
    def reviewer(self, root: EmergencyAccess) -> AuditActorType | None:
        return actor_of(root.reviewed_by)


@strawberry.input(name="RequestEmergencyAccessInput", description="Break the glass for one patient.")
class RequestEmergencyAccessInput:
    patient_id: strawberry.ID = strawberry.field(description="The patient's global ID.")
    reason: str = strawberry.field(description="Why, at least 20 characters; reviewed by staff.")
    password: str = strawberry.field(description="Your password, checked again (failures count toward the lockout).")
    code: str | None = strawberry.field(
        default=None, description="The code from your authenticator app, when you have MFA."
    )


@strawberry.input(name="ReviewEmergencyAccessInput", description="Close the review of an emergency access.")
class ReviewEmergencyAccessInput:
    id: strawberry.ID = strawberry.field(description="The emergency access's global ID.")
    verdict: EmergencyVerdictEnum = strawberry.field(description="JUSTIFIED or UNJUSTIFIED.")
    note: str = strawberry.field(default="", description="What the reviewer found.")


@strawberry.input(name="RevokeEmergencyAccessInput", description="End an emergency access now.")
class RevokeEmergencyAccessInput:
    id: strawberry.ID = strawberry.field(description="The emergency access's global ID.")


@strawberry.type
class EmergencyAccessQuery:
    @connection(
        DjangoListConnection[EmergencyAccessType],
        description="Emergency accesses, newest first (staff with care.view_emergencyaccess).",
        extensions=guard(IsStaffWithPermission(EmergencyAccessPermission.VIEW, refusal=OVERSEE_REFUSAL)),
    )
    def emergency_accesses(
        self,
        info: Info,
        reviewed: Annotated[
            bool | None, strawberry.argument(description="Only reviewed (true) or awaiting review (false).")
        ] = None,
    ) -> Iterable[EmergencyAccessType]:
        return emergency_accesses_visible_to(user=current_user(info), reviewed=reviewed)


@strawberry.type
class EmergencyAccessMutation:
    @strawberry.mutation(
        description=(
            "Doctors: read and annotate a patient's record for EMERGENCY_ACCESS_MINUTES (60) without an "
            "assignment. Asks for the password again (and the MFA code); audited, the patient and staff are told, "
            "staff review it. While one is in force, asking again answers it."
        ),
        extensions=guard(HasRole(Role.DOCTOR)),
    )
    def request_emergency_access(self, info: Info, input: RequestEmergencyAccessInput) -> EmergencyAccessType:
        patient_pk = decode_global_id(input.patient_id, expected_type="Patient", field="patientId")
        return emergency_access_request(
            actor=current_user(info),
            patient_id=patient_pk,
            reason=input.reason,
            password=input.password,
            code=input.code,
            request=info.context.request,
        )

    @strawberry.mutation(
        description="Record the verdict on an emergency access (staff with care.change_emergencyaccess).",
        extensions=guard(IsStaffWithPermission(EmergencyAccessPermission.CHANGE, refusal=OVERSEE_REFUSAL)),
    )
    def review_emergency_access(self, info: Info, input: ReviewEmergencyAccessInput) -> EmergencyAccessType:
        user = current_user(info)
        grant_pk = decode_global_id(input.id, expected_type="EmergencyAccess", field="id")
        grant = emergency_access_get_for(user=user, grant_id=grant_pk)
        return emergency_access_review(actor=user, grant=grant, verdict=input.verdict.value, note=input.note)

    @strawberry.mutation(
        description="End an emergency access now (staff with care.change_emergencyaccess, or the doctor their own).",
        extensions=guard(HasRole(Role.DOCTOR, Role.STAFF)),
    )
    def revoke_emergency_access(self, info: Info, input: RevokeEmergencyAccessInput) -> EmergencyAccessType:
        grant_pk = decode_global_id(input.id, expected_type="EmergencyAccess", field="id")
        return emergency_access_revoke_for(actor=current_user(info), grant_id=grant_pk)
