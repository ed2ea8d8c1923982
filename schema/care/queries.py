from collections.abc import Iterable
from typing import Annotated

import strawberry
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from care.selectors import assignments_visible_to, doctors_visible_to, patients_search
from schema.audit.reads import DemographicsReadExtension
from schema.care.types import AssignmentType
from schema.pagination import connection
from schema.permissions import IsAuthenticated, current_user, guard
from schema.users.types import DoctorType, PatientType


@strawberry.type
class CareQuery:
    @connection(
        DjangoListConnection[PatientType],
        description=(
            "Patients the caller may see: self, actively assigned patients, or all (staff: demographics only, "
            "each read audited in the patient's access log)."
        ),
        extensions=guard(IsAuthenticated()),
    )
    def patients(
        self,
        info: Info,
        search: Annotated[
            str | None, strawberry.argument(description="Words to match in names or an exact MRN.")
        ] = None,
    ) -> Iterable[PatientType]:
        return patients_search(user=current_user(info), search=search)

    # Last, so outermost: it sees the page the connection built, and audits staff reads of it.
    patients.extensions.append(DemographicsReadExtension())

    @connection(
        DjangoListConnection[DoctorType],
        description="The doctor directory.",
        extensions=guard(IsAuthenticated()),
    )
    def doctors(self, info: Info) -> Iterable[DoctorType]:
        return doctors_visible_to(user=current_user(info))

    @connection(
        DjangoListConnection[AssignmentType],
        description="The caller's own assignments, or all of them for staff.",
        extensions=guard(IsAuthenticated()),
    )
    def assignments(
        self,
        info: Info,
        active: Annotated[
            bool | None, strawberry.argument(description="Only active (true) or ended (false) ones.")
        ] = None,
    ) -> Iterable[AssignmentType]:
        return assignments_visible_to(user=current_user(info), active=active)
