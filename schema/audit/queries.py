import datetime
from collections.abc import Iterable
from typing import Annotated, Any

import strawberry
from django.core.exceptions import PermissionDenied, ValidationError
from strawberry import relay
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from audit.permissions import AuditPermission
from audit.selectors import audit_events_of_patient_user, audit_events_search
from care.selectors import is_staff_member
from schema.audit.types import AccessLogEntryType, AuditActionEnum, AuditEventType
from schema.pagination import connection, decode_global_id
from schema.permissions import HasRole, IsAuthenticated, current_user, guard
from users.models import Role


class CanReadAuditTrail(IsAuthenticated):
    """Staff holding audit.view_auditevent; everyone else is FORBIDDEN."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        super().has_permission(source, info, **kwargs)
        user = current_user(info)
        if not is_staff_member(user) or not user.has_perm(AuditPermission.VIEW_AUDITEVENT.value):
            raise PermissionDenied("You are not allowed to read the audit trail.")
        return True


def _user_pk(value: str) -> int:
    try:
        global_id = relay.GlobalID.from_id(value)
        if global_id.type_name != "User":
            raise ValueError(global_id.type_name)
        return int(global_id.node_id)
    except (ValueError, TypeError) as error:
        raise ValidationError({"actorId": ["Not a valid User ID."]}) from error


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
        DjangoListConnection[AuditEventType],
        description="The audit trail, newest first (staff with the audit.view_auditevent permission).",
        extensions=guard(CanReadAuditTrail()),
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
            actor_id=_user_pk(actor_id) if actor_id else None,
            action=action,
            since=since,
            until=until,
        )
