import datetime
from collections.abc import Iterable
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from audit.permissions import AuditPermission
from audit.selectors import BoundedCountQuerySet, audit_events_of_patient_user, audit_events_search
from schema.audit.types import AccessLogEntryType, AuditActionEnum, AuditEventType
from schema.pagination import connection
from schema.permissions import HasRole, IsStaffWithPermission, current_user, guard
from schema.relay import decode_global_id
from users.models import Role

AUDIT_TRAIL_REFUSAL = "You are not allowed to read the audit trail."


@strawberry.type(name="AuditEventConnection", description="A page of the audit trail.")
class AuditEventConnection(DjangoListConnection[AuditEventType]):
    # Restated with its node type: a subclass of the specialised connection otherwise resolves
    # its edges to the generic Edge at run time, which then sits unresolvable in the type map.
    edges: list[relay.Edge[AuditEventType]] = strawberry.field(description="Contains the nodes in this connection")

    @strawberry.field(
        description="True when totalCount is the database's estimate: more events match than are counted exactly."
    )
    def total_count_is_estimate(self) -> bool:
        return isinstance(self.nodes, BoundedCountQuerySet) and self.nodes.count_is_estimate()


@strawberry.type
class AuditQuery:
    @connection(
        DjangoListConnection[AccessLogEntryType],
        description="Who read, changed or was refused the caller's health data, newest first (patients).",
        extensions=guard(HasRole(Role.PATIENT)),
    )
    def my_access_log(self, info: Info) -> Iterable[AccessLogEntryType]:
        return audit_events_of_patient_user(user=current_user(info))

    @connection(
        AuditEventConnection,
        description="The audit trail, newest first (staff with the audit.view_auditevent permission).",
        extensions=guard(IsStaffWithPermission(AuditPermission.VIEW_AUDITEVENT, refusal=AUDIT_TRAIL_REFUSAL)),
    )
    def audit_events(
        self,
        info: Info,
        patient_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only this patient's.")] = None,
        actor_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only this user's actions.")] = None,
        action: Annotated[AuditActionEnum | None, strawberry.argument(description="Only this action.")] = None,
        since: Annotated[datetime.datetime | None, strawberry.argument(description="At or after this time.")] = None,
        until: Annotated[datetime.datetime | None, strawberry.argument(description="Before this time.")] = None,
    ) -> Iterable[AuditEventType]:
        return audit_events_search(
            patient_id=decode_global_id(patient_id, expected_type="Patient", field="patientId") if patient_id else None,
            actor_id=(
                decode_global_id(actor_id, expected_type="User", field="actorId", pk_type=int) if actor_id else None
            ),
            action=action,
            since=since,
            until=until,
        )
