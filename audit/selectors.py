import datetime
from dataclasses import dataclass

from django.db.models import QuerySet

from audit.chain import GENESIS_HASH, content_digest, link_hash
from audit.models import Action, AuditEvent
from users.models import User


def audit_events_of_patient_user(*, user: User) -> QuerySet[AuditEvent]:
    """The access log of the patient `user` is: every event about their data, newest first."""
    if not user.is_authenticated:
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(patient__user_id=user.pk).order_by("-sequence")


def audit_events_search(
    *,
    patient_id=None,
    actor_id=None,
    action: Action | None = None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
) -> QuerySet[AuditEvent]:
    """The whole trail, filtered, newest first. For auditors: the caller checks the permission."""
    events = AuditEvent.objects.all()
    if patient_id is not None:
        events = events.filter(patient_id=patient_id)
    if actor_id is not None:
        events = events.filter(actor_id=actor_id)
    if action is not None:
        events = events.filter(action=action)
    if since is not None:
        events = events.filter(created_at__gte=since)
    if until is not None:
        events = events.filter(created_at__lt=until)
    return events.order_by("-sequence")


@dataclass(frozen=True)
class BrokenLink:
    event_id: str
    sequence: int
    reason: str


@dataclass(frozen=True)
class ChainReport:
    checked: int
    head_sequence: int
    head_hash: str
    broken: BrokenLink | None


def audit_chain_verify(*, using: str | None = None) -> ChainReport:
    """Walk the chain from the first event; stop at the first event that does not hold."""
    prev_hash, expected, checked = GENESIS_HASH, 1, 0
    events = AuditEvent.objects.using(using).order_by("sequence")
    for event in events.iterator(chunk_size=2000):
        reason = None
        if event.sequence != expected:
            reason = f"expected sequence {expected}: an event is missing or out of place"
        elif event.prev_hash != prev_hash:
            reason = "its previous hash is not the hash of the event before it"
        elif event.hash != link_hash(prev_hash, event.sequence, content_digest(event)):
            reason = "its content does not match its hash (changed after it was written)"
        if reason is not None:
            return ChainReport(checked, expected - 1, prev_hash, BrokenLink(str(event.id), event.sequence, reason))
        prev_hash, expected, checked = event.hash, expected + 1, checked + 1
    return ChainReport(checked, expected - 1, prev_hash, None)
