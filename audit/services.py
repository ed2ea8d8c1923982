from audit.context import current_origin
from audit.models import Action, AuditEvent, Outcome


def audit_event_record(
    *,
    actor,
    action: Action,
    patient=None,
    obj=None,
    fields: list[str] | None = None,
    outcome: Outcome = Outcome.ALLOWED,
) -> AuditEvent:
    """Write one audit row. Call it inside the transaction of the write it describes."""
    origin = current_origin()
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        outcome=outcome,
        patient=patient,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        fields=fields or [],
        request_id=origin.request_id,
        ip=origin.ip,
        user_agent=origin.user_agent,
    )
