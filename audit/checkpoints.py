"""Verification from signed checkpoints: `verify_audit` checks only what was appended since the
last clean run (its checkpoint), `--full` everything; the shards in parallel processes.

A checkpoint names every shard's head when the run ended. The next run first checks the
checkpoint's signature and that each event it names still has that hash (so a chain rewritten
from an older forged event is caught at once), then walks each shard on from there in keyed
pages. A forged event older than the last checkpoint that leaves every later hash alone is only
found by `--full` (run it periodically, and before retention drops anything).
"""

import concurrent.futures
import datetime
import hashlib
import hmac
import json
import multiprocessing
import os

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from audit.anchors import audit_anchors_verify
from audit.models import AuditAnchor, AuditChainHead, AuditCheckpoint, AuditEvent
from audit.selectors import BrokenLink, ChainReport, ShardReport, audit_shard_verify


class CheckpointForged(Exception):
    """The newest checkpoint's signature does not hold: someone wrote it without the key."""


def _key() -> bytes:
    key = getattr(settings, "AUDIT_CHECKPOINT_KEY", "") or ""
    if key:
        return key.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"clinic.audit.checkpoint", hashlib.sha256).digest()


def checkpoint_signature(*, created_at: datetime.datetime, heads: list, anchor_sequence: int) -> str:
    content = {
        "created_at": created_at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "heads": [[int(shard), int(sequence), str(head_hash)] for shard, sequence, head_hash in heads],
        "anchor_sequence": int(anchor_sequence),
    }
    message = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()


def audit_checkpoint_last(*, using: str | None = None) -> AuditCheckpoint | None:
    """The newest checkpoint, its signature checked (CheckpointForged if it does not hold)."""
    checkpoint = AuditCheckpoint.objects.using(using).order_by("-id").first()
    if checkpoint is None:
        return None
    expected = checkpoint_signature(
        created_at=checkpoint.created_at, heads=checkpoint.heads, anchor_sequence=checkpoint.anchor_sequence
    )
    if not hmac.compare_digest(expected, checkpoint.signature):
        raise CheckpointForged(f"checkpoint {checkpoint.pk} is not signed with this deployment's key")
    return checkpoint


def _verify_in_child(shard: int, using: str, start) -> ShardReport:
    try:
        return audit_shard_verify(shard=shard, using=using, start=start)
    finally:
        connections.close_all()


def _verify_shards(starts: dict[int, tuple[int, str] | None], *, using: str, workers: int) -> list[ShardReport]:
    connection = connections[using]
    parallel = workers > 1 and len(starts) > 1 and not connection.in_atomic_block and connection.vendor == "postgresql"
    if not parallel:  # inside a transaction (tests) the rows are only visible to this connection
        return [audit_shard_verify(shard=shard, using=using, start=start) for shard, start in starts.items()]
    connections.close_all()  # the children must not share the parent's socket
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_verify_in_child, shard, using, start) for shard, start in starts.items()]
        return [future.result() for future in futures]


def _checkpointed_events_still_there(checkpoint: AuditCheckpoint, *, using: str) -> BrokenLink | None:
    origins = {head.shard: (head.origin_sequence, head.origin_hash) for head in AuditChainHead.objects.using(using)}
    for shard, sequence, head_hash in checkpoint.heads:
        if sequence <= origins.get(shard, (0, ""))[0]:
            continue  # at or before the chain's origin: nothing to check (or pruned)
        event = AuditEvent.objects.using(using).filter(shard=shard, sequence=sequence).only("id", "hash").first()
        if event is None or event.hash != head_hash:
            reason = f"checkpoint {checkpoint.pk} named it with another hash: the chain was rewritten before it"
            return BrokenLink(str(event.id) if event else "", sequence, reason, shard)
    return None


def audit_trail_verify(
    *, using: str | None = None, full: bool = False, workers: int | None = None, checkpoint: bool = True
) -> tuple[ChainReport, AuditCheckpoint | None, str | None]:
    """Verify the shards (from the last checkpoint, or everything when `full`) and the anchors.

    Returns the report, the checkpoint it started from (None for a full run), and what is wrong
    with the root chain (None when it holds). A clean run writes a new checkpoint.
    """
    alias = using or DEFAULT_DB_ALIAS
    workers = workers or int(getattr(settings, "AUDIT_VERIFY_WORKERS", 0)) or os.cpu_count() or 1
    start_from = None if full else audit_checkpoint_last(using=alias)
    heads = list(AuditChainHead.objects.using(alias).order_by("shard").values_list("shard", flat=True))
    named = {shard: (sequence, head_hash) for shard, sequence, head_hash in (start_from.heads if start_from else [])}
    broken = _checkpointed_events_still_there(start_from, using=alias) if start_from else None
    reports: list[ShardReport] = []
    if broken is None:
        reports = _verify_shards({shard: named.get(shard) for shard in heads}, using=alias, workers=workers)
        broken = next((report.broken for report in reports if report.broken is not None), None)
    if broken is None and full:
        # Every checkpoint ever written must name events that are still there.
        for old in AuditCheckpoint.objects.using(alias).order_by("id").iterator(chunk_size=500):
            broken = _checkpointed_events_still_there(old, using=alias)
            if broken is not None:
                break
    root_problem = None
    last_anchor = AuditAnchor.objects.using(alias).order_by("-sequence").values_list("sequence", flat=True).first()
    if broken is None:
        root_problem = audit_anchors_verify(using=alias, after=start_from.anchor_sequence if start_from else 0)
    first = reports[0] if reports else ShardReport(0, 0, 0, "", None)
    report = ChainReport(sum(r.checked for r in reports), first.head_sequence, first.head_hash, broken, tuple(reports))
    if checkpoint and broken is None and root_problem is None:
        heads_now = [[r.shard, r.head_sequence, r.head_hash] for r in reports]
        created_at = timezone.now()
        anchor_sequence = last_anchor or 0
        AuditCheckpoint.objects.using(alias).create(
            created_at=created_at,
            heads=heads_now,
            anchor_sequence=anchor_sequence,
            signature=checkpoint_signature(created_at=created_at, heads=heads_now, anchor_sequence=anchor_sequence),
        )
    return report, start_from, root_problem
