"""Execute a mutation once per (user, Idempotency-Key); a retry gets the stored answer.

Semantics of draft-ietf-httpapi-idempotency-key-header, held by the database rather than by a
process: the key row is inserted first, in the same transaction as the mutation, so

- a concurrent duplicate blocks on the unique index (PostgreSQL) or on the write lock (SQLite)
  until the first transaction ends, then finds the answer: the mutation never runs twice;
- the mutation's writes and its stored answer commit together: a client whose connection was
  cut after the commit retries and gets the answer, not a second annotation;
- if the first attempt rolls back, nothing remembers the key and the retry runs it afresh.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from idempotency.errors import IdempotencyKeyReused
from idempotency.models import IdempotencyKey
from users.models import User

KEY_LIFETIME = timedelta(hours=24)
PURGE_BATCH = 10_000

Result = TypeVar("Result")


@dataclass(frozen=True)
class Answer:
    """An HTTP answer as a retry receives it: same status, same bytes."""

    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True)
class Execution(Generic[Result]):
    """What running the request gave: the caller's result, and what a retry should get.

    answer None: keep nothing (the key is released, a retry runs again). rollback: undo every
    write of the request too (an internal error half way must not leave half a mutation that a
    retry would then repeat).
    """

    result: Result
    answer: Answer | None
    rollback: bool = False


def request_fingerprint(payload: dict[str, Any]) -> str:
    """SHA-256 of what makes two requests the same: document, variables, operation, extensions."""
    canonical = json.dumps(
        {name: payload.get(name) for name in ("query", "variables", "operationName", "extensions")},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent_execute(
    *, user: User, key: str, fingerprint: str, execute: Callable[[], Execution[Result]]
) -> Result | Answer:
    """Run `execute` once for this user and key, or return the answer stored by the run that did.

    Raises IdempotencyKeyReused when the key was used with another request (other fingerprint).
    """
    for _ in range(3):  # a first attempt may roll back or expire under us: then this one runs it
        # A retry of a finished request is answered by one read, without taking the write lock.
        stored = _stored_answer(user=user, key=key, fingerprint=fingerprint)
        if stored is not None:
            return stored
        inserted = False
        try:
            with transaction.atomic():
                now = timezone.now()
                # Opportunistic purge, this user's rows only (no contention between users): frees
                # an expired twin of `key` for reuse. purge_idempotency_keys sweeps everyone's.
                IdempotencyKey.objects.filter(user=user, expires_at__lte=now).delete()
                record = IdempotencyKey.objects.create(
                    user=user, key=key, fingerprint=fingerprint, created_at=now, expires_at=now + KEY_LIFETIME
                )
                inserted = True
                execution = execute()
                if execution.rollback:
                    transaction.set_rollback(True)
                elif execution.answer is None:
                    IdempotencyKey.objects.filter(pk=record.pk).delete()
                else:
                    IdempotencyKey.objects.filter(pk=record.pk).update(
                        status=execution.answer.status,
                        content_type=execution.answer.content_type,
                        body=execution.answer.body,
                    )
                return execution.result
        except IntegrityError:
            if inserted:
                raise  # not the key: the request's own failure
            # A duplicate ran concurrently and has committed (we waited on its row): read its answer.
    raise RuntimeError("Idempotency key neither stored nor inserted after three attempts.")


def _stored_answer(*, user: User, key: str, fingerprint: str) -> Answer | None:
    stored = IdempotencyKey.objects.filter(user=user, key=key, expires_at__gt=timezone.now()).first()
    if stored is None:
        return None
    if stored.fingerprint != fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used with another request.")
    return Answer(status=stored.status, content_type=stored.content_type, body=bytes(stored.body))


def idempotency_keys_purge(*, now=None) -> int:
    """Delete every expired key (in batches: no long lock on a big table); returns how many."""
    now = now or timezone.now()
    deleted = 0
    while True:
        batch = list(IdempotencyKey.objects.filter(expires_at__lte=now).values_list("pk", flat=True)[:PURGE_BATCH])
        if not batch:
            return deleted
        deleted += IdempotencyKey.objects.filter(pk__in=batch).delete()[0]
