"""The audit trail's hash chain: how an event is serialised, hashed and appended.

    digest(e)  = SHA-256 of the canonical JSON of e's content (every column but the chain's own)
    hash(e_n)  = SHA-256 of "<hash(e_n-1)>:<n>:<digest(e_n)>", hex; hash(e_0) is 64 zeros

Changing, removing or reordering any event breaks the link to it or from it, which
`python manage.py verify_audit` reports.

Appending is ONE SQL statement per batch (up to APPEND_BATCH_SIZE events): a recursive CTE
reads the chain's head, numbers the new rows after it and chains their hashes in SQL, and the
INSERT takes them from there. Python only supplies each row's digest. The order is decided by
`sequence` (unique): on PostgreSQL the head is read by `audit_chain_head()` (migration 0004),
which first takes a transaction-level advisory lock, so appenders queue up and each one reads
the head its predecessor committed (the function's own query gets a fresh snapshot after the
lock); SQLite has one writer at a time anyway. Were two appenders ever to read the same head,
the unique sequence would reject the second rather than fork the chain.
"""

import datetime
import hashlib
import ipaddress
import json
from collections.abc import Sequence

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from ops.metrics import AUDIT_APPEND_SECONDS

GENESIS_HASH = "0" * 64
APPEND_BATCH_SIZE = 500
# Arbitrary, fixed: the key of the PostgreSQL advisory lock that serialises appends.
ADVISORY_LOCK_KEY = 5_170_001

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


def _append_sql(connection, model, count: int) -> str:
    quote = connection.ops.quote_name
    postgres = connection.vendor == "postgresql"
    fields = [model._meta.get_field(name) for name in CONTENT_FIELDS]
    columns = [field.column for field in fields]

    def cell(db_type: str) -> str:
        # PostgreSQL types a VALUES list from its literals: say what each parameter is.
        # SQLite must not cast (CAST(... AS datetime) would turn a timestamp into a number).
        return f"CAST(%s AS {db_type})" if postgres else "%s"

    row = "(" + ", ".join([cell("integer"), *(cell(field.db_type(connection)) for field in fields), cell("text")]) + ")"
    values = ", ".join([row] * count)

    def sha256(expression: str) -> str:
        if postgres:
            return f"encode(sha256(convert_to({expression}, 'UTF8')), 'hex')"
        return f"audit_sha256({expression})"  # registered on each SQLite connection (audit/apps.py)

    table = quote(model._meta.db_table)
    if postgres:
        head = "SELECT head_sequence, head_hash FROM audit_chain_head()"
    else:
        # Built from model metadata and constants only; every value goes in as a parameter.
        head = (
            f"SELECT COALESCE(MAX({quote('sequence')}), 0), "  # noqa: S608
            f"COALESCE((SELECT {quote('hash')} FROM {table} ORDER BY {quote('sequence')} DESC LIMIT 1), "
            f"'{GENESIS_HASH}') FROM {table}"
        )
    batch_columns = ", ".join(["n", *(f"c_{column}" for column in columns), "digest"])
    next_hash = sha256("chain.link || ':' || CAST(chain.seq + 1 AS TEXT) || ':' || batch.digest")
    insert_columns = ", ".join(quote(name) for name in ("sequence", "prev_hash", "hash", *columns))
    select_columns = ", ".join(
        ["chain.seq", "chain.prev_link", "chain.link", *(f"batch.c_{column}" for column in columns)]
    )
    # Built from model metadata and constants only; every value goes in as a parameter.
    return (
        f"WITH RECURSIVE batch({batch_columns}) AS (VALUES {values}), "  # noqa: S608
        f"head(seq, link) AS ({head}), "
        f"chain(n, seq, prev_link, link) AS ("
        f"SELECT 0, head.seq, CAST(NULL AS TEXT), CAST(head.link AS TEXT) FROM head "
        f"UNION ALL "
        f"SELECT batch.n, chain.seq + 1, chain.link, {next_hash} FROM chain JOIN batch ON batch.n = chain.n + 1) "
        f"INSERT INTO {table} ({insert_columns}) "
        f"SELECT {select_columns} FROM batch JOIN chain ON chain.n = batch.n "
        f"RETURNING {quote('id')}, {quote('sequence')}, {quote('prev_hash')}, {quote('hash')}"
    )


def _append_batch(events: Sequence, connection) -> None:
    model = type(events[0])
    fields = [model._meta.get_field(name) for name in CONTENT_FIELDS]
    params: list = []
    for n, event in enumerate(events, start=1):
        _normalise(event, connection)
        params.append(n)
        params.extend(field.get_db_prep_save(getattr(event, field.attname), connection) for field in fields)
        params.append(content_digest(event))
    with connection.cursor() as cursor:
        cursor.execute(_append_sql(connection, model, len(events)), params)
        returned = {str(row[0]).replace("-", ""): row[1:] for row in cursor.fetchall()}
    for event in events:
        event.sequence, event.prev_hash, event.hash = returned[str(event.id).replace("-", "")]
        event._state.adding = False
        event._state.db = connection.alias


@AUDIT_APPEND_SECONDS.time()  # /metrics: what an append costs the request that makes it
def chain_append(events: Sequence, *, using: str | None = None) -> None:
    """Append `events` (unsaved AuditEvents) to the chain: one statement per batch."""
    events = list(events)
    if not events:
        return
    connection = connections[using or DEFAULT_DB_ALIAS]
    batches = [events[start : start + APPEND_BATCH_SIZE] for start in range(0, len(events), APPEND_BATCH_SIZE)]
    if len(batches) == 1:
        _append_batch(batches[0], connection)
        return
    with transaction.atomic(using=connection.alias):
        for batch in batches:
            _append_batch(batch, connection)
