"""The audit trail's hash chains: how an event is serialised, hashed and appended.

    digest(e)  = SHA-256 of the canonical JSON of e's content (every column but the chain's own)
    hash(e_n)  = SHA-256 of "<hash(e_n-1)>:<n>:<digest(e_n)>", hex; hash(e_0) is 64 zeros

Changing, removing or reordering any event breaks the link to it or from it, which
`python manage.py verify_audit` reports.

The trail is `AUDIT_CHAIN_SHARDS` chains on PostgreSQL (one on SQLite): an event goes to the
shard of its patient (`shard_for`), events about no patient to shard 0. Each shard has a head
row (AuditChainHead) holding its last sequence and hash; appenders to different shards never
wait for each other.

Appending is ONE SQL statement per batch (up to APPEND_BATCH_SIZE events): it locks the head
rows of the shards it touches (FOR UPDATE, in shard order, so two batches cannot deadlock),
numbers the new rows after each head and chains their hashes in SQL (a recursive CTE), inserts
them and moves the heads, all in that statement. Python only supplies each row's digest. The
head rows stay locked until the transaction ends: a write service appends as its LAST statement,
so the lock is held for the statement and the COMMIT, not for the business work. SQLite (one
writer at a time anyway) keeps one chain, whose head the statement reads from its last event.
The unique (shard, sequence) rejects a fork, were two appenders ever to read the same head.
"""

import datetime
import functools
import hashlib
import ipaddress
import json
import uuid
from collections.abc import Sequence

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from audit.models import AuditChainHead
from ops.metrics import AUDIT_APPEND_SECONDS

GENESIS_HASH = "0" * 64
APPEND_BATCH_SIZE = 500
# Arbitrary, fixed: the key of the PostgreSQL advisory lock that serialised appends before the
# trail was sharded (migration 0005 still names it).
ADVISORY_LOCK_KEY = 5_170_001
# Head rows exist for shards 0 .. MAX_SHARDS - 1 (migration 0008): AUDIT_CHAIN_SHARDS may grow to it.
MAX_SHARDS = 64
NO_PATIENT_SHARD = 0

# The columns the digest covers, in the order they are inserted.
CONTENT_FIELDS = (
    "id",
    "actor",
    "action",
    "outcome",
    "patient",
    "object_type",
    "object_id",
    "fields",
    "request_id",
    "ip",
    "user_agent",
    "created_at",
    "emergency",
    "severity",
)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_content(event) -> str:
    """The event's content as canonical JSON: sorted keys, no spaces, UTC microseconds."""
    created_at = event.created_at.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    content = {
        "id": str(event.id),
        "actor_id": event.actor_id,
        "action": str(event.action),
        "outcome": str(event.outcome),
        "patient_id": str(event.patient_id) if event.patient_id is not None else None,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "fields": list(event.fields),
        "request_id": event.request_id,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "created_at": created_at,
    }
    # Added later: only when not the default, so events written before keep their digests.
    if event.emergency:
        content["emergency"] = True
    if str(event.severity) != "NORMAL":
        content["severity"] = str(event.severity)
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def content_digest(event) -> str:
    return sha256_hex(canonical_content(event))


def link_hash(prev_hash: str, sequence: int, digest: str) -> str:
    return sha256_hex(f"{prev_hash}:{sequence}:{digest}")


def _normalise(event, connection) -> None:
    """Give the event the values the database will hand back, so its digest can be recomputed."""
    for name in CONTENT_FIELDS:
        event._meta.get_field(name).pre_save(event, add=True)  # auto_now_add, defaults
    if event.ip:
        event.ip = str(ipaddress.ip_address(event.ip))
    event.fields = [str(name) for name in (event.fields or [])]
    event.action = str(event.action)
    event.outcome = str(event.outcome)
    event.severity = str(event.severity)


def shard_count(connection) -> int:
    """How many chains appends spread over: AUDIT_CHAIN_SHARDS on PostgreSQL, one on SQLite."""
    if connection.vendor != "postgresql":
        return 1
    shards = int(getattr(settings, "AUDIT_CHAIN_SHARDS", 1))
    if not 1 <= shards <= MAX_SHARDS:
        raise ValueError(f"AUDIT_CHAIN_SHARDS must be between 1 and {MAX_SHARDS}, not {shards}")
    return shards


def shard_for(patient_id, *, shards: int) -> int:
    """The chain an event about `patient_id` goes to: a hash of the patient, fixed for a given count."""
    if patient_id is None or shards <= 1:
        return NO_PATIENT_SHARD
    digest = hashlib.sha256(uuid.UUID(str(patient_id)).bytes).digest()
    return int.from_bytes(digest[:8], "big") % shards


@functools.lru_cache(maxsize=512)
def _append_sql_cached(vendor: str, model, shards: tuple[int, ...], count: int, alias: str) -> str:
    # The statement depends only on these: built once per shape, not per append (a request's
    # batch size and shard set repeat; 512 shapes are a few MB at most).
    return _append_sql(connections[alias], model, shards, count)


def _append_sql(connection, model, shards: Sequence[int], count: int) -> str:
    quote = connection.ops.quote_name
    postgres = connection.vendor == "postgresql"
    fields = [model._meta.get_field(name) for name in CONTENT_FIELDS]
    columns = [field.column for field in fields]

    def cell(db_type: str) -> str:
        # PostgreSQL types a VALUES list from its literals: say what each parameter is.
        # SQLite must not cast (CAST(... AS datetime) would turn a timestamp into a number).
        return f"CAST(%s AS {db_type})" if postgres else "%s"

    row = (
        "("
        + ", ".join(
            [cell("smallint"), cell("integer"), *(cell(field.db_type(connection)) for field in fields), cell("text")]
        )
        + ")"
    )
    values = ", ".join([row] * count)

    def sha256(expression: str) -> str:
        if postgres:
            return f"encode(sha256(convert_to({expression}, 'UTF8')), 'hex')"
        return f"audit_sha256({expression})"  # registered on each SQLite connection (audit/apps.py)

    table = quote(model._meta.db_table)
    heads = quote(AuditChainHead._meta.db_table)
    shard_list = ", ".join(str(int(shard)) for shard in shards)  # ints from shard_for
    if postgres:
        # Locked in shard order: two batches touching the same shards queue, never deadlock.
        head = (
            f"SELECT shard, {quote('sequence')}, {quote('hash')} FROM {heads} "  # noqa: S608
            f"WHERE shard IN ({shard_list}) ORDER BY shard FOR UPDATE"
        )
    else:
        # One chain, one writer at a time: its head is its last event (a trigger, migration
        # 0008, keeps the head row in step for the anchors; this statement must not read it).
        head = (
            f"SELECT 0, COALESCE(MAX({quote('sequence')}), 0), "  # noqa: S608
            f"COALESCE((SELECT {quote('hash')} FROM {table} WHERE shard = 0 ORDER BY {quote('sequence')} DESC "
            f"LIMIT 1), '{GENESIS_HASH}') FROM {table} WHERE shard = 0"
        )
    batch_columns = ", ".join(["shard", "n", *(f"c_{column}" for column in columns), "digest"])
    next_hash = sha256("chain.link || ':' || CAST(chain.seq + 1 AS TEXT) || ':' || batch.digest")
    insert_columns = ", ".join(quote(name) for name in ("shard", "sequence", "prev_hash", "hash", *columns))
    select_columns = ", ".join(
        ["batch.shard", "chain.seq", "chain.prev_link", "chain.link", *(f"batch.c_{column}" for column in columns)]
    )
    returning = ", ".join(quote(name) for name in ("id", "shard", "sequence", "prev_hash", "hash"))
    # Built from model metadata, constants and integers only; every value goes in as a parameter.
    sql = (
        f"WITH RECURSIVE batch({batch_columns}) AS (VALUES {values}), "  # noqa: S608
        f"head(shard, seq, link) AS ({head}), "
        f"chain(shard, n, seq, prev_link, link) AS ("
        f"SELECT head.shard, 0, head.seq, CAST(NULL AS TEXT), CAST(head.link AS TEXT) FROM head "
        f"UNION ALL "
        f"SELECT batch.shard, batch.n, chain.seq + 1, chain.link, {next_hash} "
        f"FROM chain JOIN batch ON batch.shard = chain.shard AND batch.n = chain.n + 1)"
    )
    insert = (
        f"INSERT INTO {table} ({insert_columns}) "  # noqa: S608
        f"SELECT {select_columns} FROM batch JOIN chain ON chain.shard = batch.shard AND chain.n = batch.n "
        f"RETURNING {returning}"
    )
    if not postgres:
        return f"{sql} {insert}"
    return (
        f"{sql}, inserted AS ({insert}), "  # noqa: S608
        f"moved AS (UPDATE {heads} SET {quote('sequence')} = last.seq, {quote('hash')} = last.link "
        f"FROM (SELECT DISTINCT ON (chain.shard) chain.shard, chain.seq, chain.link FROM chain "
        f"ORDER BY chain.shard, chain.n DESC) AS last WHERE {heads}.shard = last.shard) "
        f"SELECT * FROM inserted"
    )


def _append_batch(events: Sequence, connection) -> None:
    model = type(events[0])
    fields = [model._meta.get_field(name) for name in CONTENT_FIELDS]
    params: list = []
    position: dict[int, int] = {}
    for event in events:
        position[event.shard] = position.get(event.shard, 0) + 1
        params.extend((event.shard, position[event.shard]))
        params.extend(field.get_db_prep_save(getattr(event, field.attname), connection) for field in fields)
        params.append(content_digest(event))
    shards = sorted(position)
    with connection.cursor() as cursor:
        sql = _append_sql_cached(connection.vendor, model, tuple(shards), len(events), connection.alias)
        cursor.execute(sql, params)
        returned = {str(row[0]).replace("-", ""): row[1:] for row in cursor.fetchall()}
        if len(returned) != len(events):
            # A shard without a head row would drop its events silently: refuse instead.
            raise RuntimeError(f"audit append wrote {len(returned)} of {len(events)} events (shards {shards})")
    for event in events:
        event.shard, event.sequence, event.prev_hash, event.hash = returned[str(event.id).replace("-", "")]
        event._state.adding = False
        event._state.db = connection.alias


@AUDIT_APPEND_SECONDS.time()  # /metrics: what an append costs the request that makes it
def chain_append(events: Sequence, *, using: str | None = None) -> None:
    """Append `events` (unsaved AuditEvents) to their shards' chains: one statement per batch."""
    events = list(events)
    if not events:
        return
    connection = connections[using or DEFAULT_DB_ALIAS]
    shards = shard_count(connection)
    for event in events:
        _normalise(event, connection)  # created_at in the caller's order, before the shards regroup them
        event.shard = shard_for(event.patient_id, shards=shards)
    # In shard order (stable: a request's events keep their order within a shard), so batches of
    # one append lock head rows in ascending order too.
    events.sort(key=lambda event: event.shard)
    batches = [events[start : start + APPEND_BATCH_SIZE] for start in range(0, len(events), APPEND_BATCH_SIZE)]
    if len(batches) == 1:
        _append_batch(batches[0], connection)
        return
    with transaction.atomic(using=connection.alias):
        for batch in batches:
            _append_batch(batch, connection)
