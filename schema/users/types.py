from typing import TYPE_CHECKING, Annotated

import strawberry
import strawberry_django
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch
from strawberry import relay
from strawberry.types import Info

from care.selectors import active_assignments_with_doctors
from records.selectors import records_visible_to
from schema.audit.reads import audit_demographics_read, audit_record_read
from schema.fastpath import direct_resolver
from users.models import Doctor, Patient, Role, User

if TYPE_CHECKING:
    from schema.records.types import HealthRecordType

RoleEnum = strawberry.enum(Role, name="Role", description="What a user is in the clinic; derived from their profile.")


@strawberry_django.type(Doctor, name="Doctor", description="A doctor, as the clinic directory shows them.")
class DoctorType(relay.Node):
    specialty: str = strawberry_django.field(description="Medical specialty.")

    # The model's property, read straight off the row: no resolver on this hot field.
    full_name: str = strawberry_django.field(
        description="The doctor's full name.",
        select_related=["user"],
        only=["user__first_name", "user__last_name", "user__username"],
    )


@direct_resolver  # called straight from graphql-core on the fast path: hot on worklists
def _visible_health_record(root: Patient, info: Info):
    # Optimized path: the optimizer prefetched the record through HealthRecordType.get_queryset,
    # which leaves it out where the caller may not read it.
    if Patient.health_record.related.is_cached(root):
        try:
            record = root.health_record
        except ObjectDoesNotExist:
            record = None
    else:
        record = records_visible_to(user=info.context.request.user).filter(patient=root).first()
    return audit_record_read(info, record, patient_id=root.pk)  # PHI handed out: audited


_visible_health_record.can_optimize = True  # the optimizer treats it as the relation it reads


def _active_assignments_prefetch(info: Info) -> Prefetch:
    return Prefetch(
        "assignments",
        queryset=active_assignments_with_doctors(),
        to_attr="active_assignments",
    )


HealthRecordRef = Annotated["HealthRecordType", strawberry.lazy("schema.records.types")]


@strawberry_django.type(
    Patient,
    name="Patient",
    description=(
        "A patient's demographics and, where visible, their record. Only the patient, their actively "
        "assigned doctors and staff ever get one; staff reads of the name, date of birth and MRN are audited."
    ),
)
class PatientType(relay.Node):
    date_of_birth: strawberry.auto = strawberry_django.field(description="Date of birth.")
    medical_record_number: str = strawberry_django.field(description="The clinic's medical record number.")

    # The model's property, read straight off the row: no resolver on this hot field.
    full_name: str = strawberry_django.field(
        description="The patient's full name.",
        select_related=["user"],
        only=["user__first_name", "user__last_name", "user__username"],
    )

    health_record: HealthRecordRef | None = strawberry_django.field(
        resolver=_visible_health_record,
        field_name="health_record",
        description="The health record, or null where the caller may not read it.",
    )

    @strawberry_django.field(
        description="Doctors actively assigned to this patient.",
        prefetch_related=[_active_assignments_prefetch],
    )
    def doctors(self, root: Patient) -> list[DoctorType]:
        assignments = getattr(root, "active_assignments", None)
        if assignments is None:
            assignments = active_assignments_with_doctors().filter(patient=root)
        return [assignment.doctor for assignment in assignments]


def _profile_or_none(name: str):
    def resolve(root: User):
        try:
            return getattr(root, name)
        except ObjectDoesNotExist:
            return None

    resolve.can_optimize = True
    return resolve


def _patient_profile_or_none(root: User, info: Info):
    # Users are visible to themselves and staff (users_visible_to): staff reads are audited.
    return audit_demographics_read(info, _profile_or_none("patient")(root))


_patient_profile_or_none.can_optimize = True


@strawberry_django.type(User, name="User", description="A person who can sign in.")
class UserType(relay.Node):
    username: str = strawberry_django.field(description="Login name.")
    email: str = strawberry_django.field(description="Email address.")
    first_name: str = strawberry_django.field(description="Given name.")
    last_name: str = strawberry_django.field(description="Family name.")
    is_active: bool = strawberry_django.field(description="False once staff deactivated the account.")

    full_name: str = strawberry_django.field(
        description="Full name, or the username when no name is set.", only=["first_name", "last_name", "username"]
    )

    @strawberry_django.field(description="Patient, doctor or staff.", select_related=["patient", "doctor"])
    def role(self, root: User) -> RoleEnum:
        return root.role

    doctor: DoctorType | None = strawberry_django.field(
        resolver=_profile_or_none("doctor"), field_name="doctor", description="The doctor profile, for doctors."
    )
    patient: PatientType | None = strawberry_django.field(
        resolver=_patient_profile_or_none, field_name="patient", description="The patient profile, for patients."
    )
