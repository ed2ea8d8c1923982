import contextlib
import contextvars
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from audit.context import current_origin
from audit.models import Action, AuditEvent, Outcome, Severity


@dataclass(frozen=True)
class AuditDraft:
    """An event to append; who and from where are filled in when it is written."""

    action: Action
    outcome: Outcome = Outcome.ALLOWED
    patient_id: object = None
    object_type: str = ""
    object_id: str = ""
    fields: tuple[str, ...] = field(default_factory=tuple)
    emergency: bool = False  # done under an emergency-access grant
    severity: Severity = Severity.NORMAL


def _actor_id(actor) -> int | None:
    return actor.pk if actor is not None and actor.is_authenticated else None


def audit_events_append(*, actor, drafts: Iterable[AuditDraft]) -> list[AuditEvent]:
    """Append several events of one request in ONE statement (see audit/chain.py)."""
    origin = current_origin()
    events = [
        AuditEvent(
            actor_id=_actor_id(actor),
            action=draft.action,
            outcome=draft.outcome,
            patient_id=draft.patient_id,
            object_type=draft.object_type,
            object_id=draft.object_id,
            fields=list(draft.fields),
            request_id=origin.request_id,
            ip=origin.ip,
            user_agent=origin.user_agent,
            emergency=draft.emergency,
            severity=draft.severity,
        )
        for draft in drafts
    ]
    return AuditEvent.objects.bulk_create(events)


# Refused lookups noted by the access functions (records.selectors.record_get_for, …) while a
# batch is open: the API opens one per request and appends them with its reads in ONE statement.
_refusals: contextvars.ContextVar[list[AuditDraft] | None] = contextvars.ContextVar("audit_refusals", default=None)


@contextlib.contextmanager
def audit_refusals_batch() -> Iterator[list[AuditDraft]]:
    """Collect the refusals noted inside; the caller appends them (with its own events) at the end."""
    drafts: list[AuditDraft] = []
    token = _refusals.set(drafts)
    try:
        yield drafts
    finally:
        _refusals.reset(token)


def audit_refusal_note(*, actor, action: Action, patient_id, object_type: str, object_id, fields=()) -> None:
    """A refused lookup of an object that may or may not exist: a DENIED event.

    Into the open batch when there is one; otherwise appended at once, so no caller outside a
    request can refuse silently.
    """
    draft = AuditDraft(
        action=action,
        outcome=Outcome.DENIED,
        patient_id=patient_id,
        object_type=object_type,
        object_id=str(object_id),
        fields=tuple(sorted(fields)),
    )
    batch = _refusals.get()
    if batch is None:
        audit_events_append(actor=actor, drafts=[draft])
    else:
        batch.append(draft)


def audit_event_record(
    *,
    actor,
    action: Action,
    patient=None,
    obj=None,
    fields: list[str] | None = None,
    outcome: Outcome = Outcome.ALLOWED,
    emergency: bool = False,
    severity: Severity = Severity.NORMAL,
) -> AuditEvent:
    """Write one audit row. Call it inside the transaction of the write it describes.

    `emergency`: done under an emergency-access grant; `severity`: HIGH for what a reviewer must close.
    """
    draft = AuditDraft(
        action=action,
        outcome=outcome,
        emergency=emergency,
        severity=severity,
        patient_id=patient.pk if patient is not None else None,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        fields=tuple(fields or ()),
    )
    return audit_events_append(actor=actor, drafts=[draft])[0]
