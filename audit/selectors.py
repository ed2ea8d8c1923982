import datetime
import json
from dataclasses import dataclass

from django.conf import settings
from django.db import connections
from django.db.models import QuerySet, Subquery

from audit.chain import GENESIS_HASH, content_digest, link_hash
from audit.models import Action, AuditChainHead, AuditEvent, AuditEventQuerySet
from users.models import Patient, User


def audit_events_of_patient_user(*, user: User) -> QuerySet[AuditEvent]:
    """The access log of the patient `user` is: every event about their data, newest first."""
    if not user.is_authenticated:
        return AuditEvent.objects.none()
    # patient_id = (the user's patient), not a join through patient__user_id: PostgreSQL then
    # pages down the (patient, sequence) index. All of a patient's events are in one shard, so
    # its sequence orders them.
    patient = Patient.objects.filter(user_id=user.pk).order_by().values("pk")[:1]  # one row: no sort, no join
    return bounded(AuditEvent.objects.filter(patient_id=Subquery(patient)).order_by("-sequence"))


def audit_events_search(
    *,
    patient_id=None,
    actor_id=None,
    action: Action | None = None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
) -> QuerySet[AuditEvent]:
    """The whole trail, filtered, newest first. For auditors: the caller checks the permission.

    Each filter has an index to page down: patient (patient, sequence), actor (actor,
    created_at), action (action, created_at), a time range alone (created_at).
    """
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
    if patient_id is not None:
        # One patient, one shard: sequence is the order of writing.
        return bounded(events.order_by("-sequence"))
    # The shards' sequences are independent: across them, newest first is by time.
    return bounded(events.order_by("-created_at", "-id"))


class BoundedCountQuerySet(AuditEventQuerySet):
    """count() is exact up to AUDIT_TOTAL_COUNT_CAP matches; beyond, PostgreSQL's estimate.

    So a page's totalCount never scans millions of rows (15 s statement timeout). Whether the
    last count was an estimate is `count_is_estimate()`.
    """

    _estimated: bool | None = None

    def count(self) -> int:
        if self._result_cache is not None or self.query.is_sliced:
            return super().count()
        cap = int(getattr(settings, "AUDIT_TOTAL_COUNT_CAP", 10_000))
        exact = AuditEventQuerySet.count(self.order_by()[: cap + 1])
        self._estimated = exact > cap and connections[self.db].vendor == "postgresql"
        if not self._estimated:
            return exact if exact <= cap else AuditEventQuerySet.count(self.order_by())
        return max(cap + 1, self._planner_rows())

    def count_is_estimate(self) -> bool:
        if self._estimated is None:
            self.count()
        return bool(self._estimated)

    def _planner_rows(self) -> int:
        sql, params = self.order_by().values("pk").query.sql_with_params()
        with connections[self.db].cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        return int(plan[0]["Plan"]["Plan Rows"])


def bounded(events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
    return BoundedCountQuerySet(model=events.model, query=events.query, using=events._db)


@dataclass(frozen=True)
class BrokenLink:
    event_id: str
    sequence: int
    reason: str
    shard: int = 0


@dataclass(frozen=True)
class ShardReport:
    shard: int
    checked: int
    head_sequence: int
    head_hash: str
    broken: BrokenLink | None


@dataclass(frozen=True)
class ChainReport:
    checked: int
    head_sequence: int  # shard 0's (the only one on SQLite)
    head_hash: str
    broken: BrokenLink | None
    shards: tuple[ShardReport, ...] = ()


VERIFY_PAGE_SIZE = 5000


def audit_shard_verify(
    *, shard: int, using: str | None = None, start: tuple[int, str] | None = None, page_size: int = VERIFY_PAGE_SIZE
) -> ShardReport:
    """Walk one shard's chain up to its head row, in keyed pages; stop at the first event that does not hold.

    From `start` (a sequence and the hash it must have, e.g. a checkpoint), else from the chain's
    origin. Events appended while it runs (after the head it read first) are left for next time.
    """
    head = AuditChainHead.objects.using(using).get(shard=shard)
    prev_hash, expected = (start[1], start[0] + 1) if start else (head.origin_hash, head.origin_sequence + 1)
    checked = 0
    events = AuditEvent.objects.using(using).filter(shard=shard, sequence__lte=head.sequence).order_by("sequence")
    while expected <= head.sequence:
        page = list(events.filter(sequence__gte=expected)[:page_size])
        if not page:
            break
        for event in page:
            reason = None
            if event.sequence != expected:
                reason = f"expected sequence {expected}: an event is missing or out of place"
            elif event.prev_hash != prev_hash:
                reason = "its previous hash is not the hash of the event before it"
            elif event.hash != link_hash(prev_hash, event.sequence, content_digest(event)):
                reason = "its content does not match its hash (changed after it was written)"
            if reason is not None:
                broken = BrokenLink(str(event.id), event.sequence, reason, shard)
                return ShardReport(shard, checked, expected - 1, prev_hash, broken)
            prev_hash, expected, checked = event.hash, expected + 1, checked + 1
    if expected - 1 != head.sequence or prev_hash != head.hash:
        reason = f"the chain ends at sequence {expected - 1} but its head row says {head.sequence}: events are missing"
        return ShardReport(shard, checked, expected - 1, prev_hash, BrokenLink("", expected, reason, shard))
    return ShardReport(shard, checked, head.sequence, head.hash, None)


def audit_chain_verify(*, using: str | None = None) -> ChainReport:
    """Walk every shard's chain from its origin; report the first event that does not hold."""
    shards = tuple(
        audit_shard_verify(shard=shard, using=using)
        for shard in AuditChainHead.objects.using(using).order_by("shard").values_list("shard", flat=True)
    )
    broken = next((report.broken for report in shards if report.broken is not None), None)
    first = shards[0] if shards else ShardReport(0, 0, 0, GENESIS_HASH, None)
    return ChainReport(sum(report.checked for report in shards), first.head_sequence, first.head_hash, broken, shards)
