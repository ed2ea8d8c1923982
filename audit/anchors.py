"""The root chain: the heads of all shards, hash-chained into AuditAnchor rows (`anchor_audit`).

    digest(a) = SHA-256 of the canonical JSON of {"created_at": …, "heads": [[shard, sequence, hash], …]}
    hash(a_n) = SHA-256 of "<hash(a_n-1)>:<n>:<digest(a_n)>", as for events (audit/chain.py)

Each anchor names the head of every shard that has events. Rewriting a shard's chain wholesale
(every hash recomputed after a forged event) still passes that shard's own walk, but no longer
ends in the hash an anchor names; and the root head, logged at each anchor and published
elsewhere, pins the anchors themselves.
"""

import datetime
import json
import logging

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from audit.chain import ADVISORY_LOCK_KEY, GENESIS_HASH, link_hash, sha256_hex
from audit.models import AuditAnchor, AuditChainHead, AuditEvent

logger = logging.getLogger(__name__)
# One anchorer at a time (on SQLite the write lock already serialises them).
ANCHOR_LOCK_KEY = ADVISORY_LOCK_KEY + 1
PAGE_SIZE = 1000


def anchor_digest(*, created_at: datetime.datetime, heads: list) -> str:
    content = {
        "created_at": created_at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "heads": [[int(shard), int(sequence), str(head_hash)] for shard, sequence, head_hash in heads],
    }
    return sha256_hex(json.dumps(content, sort_keys=True, separators=(",", ":")))


def audit_anchor_append(*, using: str | None = None) -> AuditAnchor | None:
    """Anchor the shards' current heads in the root chain; None when nothing moved since the last anchor."""
    alias = using or DEFAULT_DB_ALIAS
    with transaction.atomic(using=alias):
        if connections[alias].vendor == "postgresql":
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ANCHOR_LOCK_KEY])
        heads = [
            [head.shard, head.sequence, head.hash]
            for head in AuditChainHead.objects.using(alias).order_by("shard")
            if head.sequence > head.origin_sequence or head.shard == 0
        ]
        last = AuditAnchor.objects.using(alias).order_by("-sequence").first()
        if last is not None and last.heads == heads:
            return None
        created_at = timezone.now()
        sequence = 1 if last is None else last.sequence + 1
        prev_hash = GENESIS_HASH if last is None else last.hash
        anchor = AuditAnchor(
            sequence=sequence,
            created_at=created_at,
            heads=heads,
            prev_hash=prev_hash,
            hash=link_hash(prev_hash, sequence, anchor_digest(created_at=created_at, heads=heads)),
        )
        anchor.save(using=alias, force_insert=True)
    # The root head: published off the database (the log pipeline), it pins every shard up to here.
    logger.info(
        "audit root head #%d %s",
        anchor.sequence,
        anchor.hash,
        extra={"audit_root_sequence": anchor.sequence, "audit_root_hash": anchor.hash},
    )
    return anchor


def audit_anchors_verify(*, using: str | None = None, after: int = 0) -> str | None:
    """Walk the root chain (after anchor `after`) and check every head it names is still that event.

    Returns why it does not hold, or None.
    """
    anchors = AuditAnchor.objects.using(using).order_by("sequence")
    previous = anchors.filter(sequence=after).first() if after else None
    prev_hash, expected = (previous.hash, after + 1) if previous else (GENESIS_HASH, 1)
    while True:
        page = list(anchors.filter(sequence__gte=expected)[:PAGE_SIZE])
        if not page:
            return None
        wanted: dict[tuple[int, int], tuple[int, str]] = {}
        for anchor in page:
            if anchor.sequence != expected:
                return f"anchor {expected} is missing"
            if anchor.prev_hash != prev_hash:
                return f"anchor {anchor.sequence} does not link to anchor {expected - 1}"
            digest = anchor_digest(created_at=anchor.created_at, heads=anchor.heads)
            if anchor.hash != link_hash(prev_hash, anchor.sequence, digest):
                return f"anchor {anchor.sequence} was changed after it was written"
            for shard, sequence, head_hash in anchor.heads:
                wanted[(shard, sequence)] = (anchor.sequence, head_hash)
            prev_hash, expected = anchor.hash, expected + 1
        problem = _heads_still_there(wanted, using=using)
        if problem is not None:
            return problem


def _heads_still_there(wanted: dict[tuple[int, int], tuple[int, str]], *, using: str | None) -> str | None:
    origins = {head.shard: (head.origin_sequence, head.origin_hash) for head in AuditChainHead.objects.using(using)}
    by_shard: dict[int, list[int]] = {}
    for shard, sequence in wanted:
        if sequence > origins.get(shard, (0, ""))[0]:  # at or before the origin: untouched, or pruned
            by_shard.setdefault(shard, []).append(sequence)
    for shard, sequences in sorted(by_shard.items()):
        found = dict(
            AuditEvent.objects.using(using).filter(shard=shard, sequence__in=sequences).values_list("sequence", "hash")
        )
        for sequence in sorted(sequences):
            anchor_sequence, head_hash = wanted[(shard, sequence)]
            if found.get(sequence) != head_hash:
                return (
                    f"anchor {anchor_sequence} names event {sequence} of shard {shard} with another hash: "
                    f"the shard's chain was rewritten"
                )
    return None
