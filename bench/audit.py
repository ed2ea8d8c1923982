"""The audit trail's append and read paths at scale, on PostgreSQL (issue 19).

    BENCH_DATABASE_URL=postgres://…/clinic_audit_bench python -m bench.audit [--seconds 3] [--events 300000]

Table 1: N threads (own connections) append through the project's own path
(audit.services.audit_events_append: one event per call, for a random one of 200 patients) for
--seconds each; next to them a plain INSERT of the same row into a copy of the table (same
indexes, no chain, no trigger, no foreign keys); then write transactions with 5 ms of other work
and the append as their last statement, and the same with the append first (the lock then held
through the 5 ms, but only on that patient's shard).
Table 2: --events events appended (a tenth of them about one patient), then the size per event
(table and its indexes), a full `verify_audit` walk, and the first pages of the read paths.
Default database: clinic_audit_bench on 127.0.0.1, created if missing and left for inspection.
"""

import argparse
import io
import os
import random
import statistics
import threading
import time
import uuid

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic_audit_bench")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

CONCURRENCY = (1, 4, 16, 32)
PATIENTS = 200


def ensure_database() -> None:
    import psycopg

    url = os.environ["BENCH_DATABASE_URL"]
    if not url.startswith("postgres"):
        raise SystemExit("bench.audit needs PostgreSQL: set BENCH_DATABASE_URL=postgres://…")
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            admin.execute(f'CREATE DATABASE "{name}"')


def run_threads(threads: int, seconds: float, operation) -> tuple[float, float]:
    """Ops per second and p99 latency (ms) of `operation` called in a loop by `threads` threads."""
    from django.db import connection

    barrier = threading.Barrier(threads + 1)
    stop = threading.Event()
    latencies: list[list[float]] = [[] for _ in range(threads)]

    def worker(index: int) -> None:
        rng = random.Random(index)
        operation(rng)  # connect first
        barrier.wait()
        mine = latencies[index]
        while not stop.is_set():
            start = time.perf_counter()
            operation(rng)
            mine.append(time.perf_counter() - start)
        connection.close()

    workers = [threading.Thread(target=worker, args=(index,)) for index in range(threads)]
    for thread in workers:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - started
    every = sorted(latency for mine in latencies for latency in mine)
    p99 = every[min(len(every) - 1, int(len(every) * 0.99))] * 1000 if every else 0.0
    return len(every) / elapsed, p99


def append_table(seconds: float) -> None:
    from django.db import connection, transaction

    from audit.models import Action
    from audit.services import AuditDraft, audit_events_append
    from users.models import Patient

    patients = list(Patient.objects.values_list("pk", flat=True)[:PATIENTS])
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_plain_audit")
        cursor.execute("CREATE TABLE bench_plain_audit (LIKE audit_auditevent INCLUDING DEFAULTS INCLUDING INDEXES)")
    sequence = iter(range(1, 10**12))
    lock = threading.Lock()

    def chained(rng) -> None:
        audit_events_append(actor=None, drafts=[AuditDraft(action=Action.RECORD_READ, patient_id=rng.choice(patients))])

    def plain(rng) -> None:
        with lock:
            n = next(sequence)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_plain_audit (id, shard, sequence, prev_hash, hash, action, outcome, patient_id,"
                " object_type, object_id, fields, request_id, user_agent, created_at, emergency, severity)"
                " VALUES (%s, 0, %s, %s, %s, 'RECORD_READ', 'ALLOWED', %s, '', '', '[]', '', '', now(), false,"
                " 'NORMAL')",
                [uuid.uuid4(), n, "0" * 64, uuid.uuid4().hex * 2, rng.choice(patients)],
            )

    def work_then_append(rng) -> None:
        with transaction.atomic():
            time.sleep(0.005)  # the write's own work
            chained(rng)  # the append: its last statement

    def append_then_work(rng) -> None:
        with transaction.atomic():
            chained(rng)
            time.sleep(0.005)  # the head row of this patient's shard stays locked meanwhile

    print(f"\n### Appends ({seconds:g} s per cell, {PATIENTS} patients, AUDIT_CHAIN_SHARDS={shards()})\n")
    print(
        "| concurrent appenders | chained, events/s (p99 ms) | plain INSERT, events/s | chained / plain |"
        " 5 ms of work, then the append: tx/s (p99 ms) | the append, then 5 ms: tx/s (p99 ms) |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for threads in CONCURRENCY:
        rate, p99 = run_threads(threads, seconds, chained)
        plain_rate, _ = run_threads(threads, seconds, plain)
        last_rate, last_p99 = run_threads(threads, seconds, work_then_append)
        first_rate, first_p99 = run_threads(threads, seconds, append_then_work)
        print(
            f"| {threads} | {rate:,.0f} ({p99:.1f}) | {plain_rate:,.0f} | {rate / plain_rate:.2f} |"
            f" {last_rate:,.0f} ({last_p99:.0f}) | {first_rate:,.0f} ({first_p99:.0f}) |",
            flush=True,
        )


def shards() -> int:
    from django.db import connection

    from audit.chain import shard_count

    return shard_count(connection)


def median_ms(call, runs: int = 15) -> float:
    call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def scale_table(events: int) -> None:
    import datetime

    from django.db import connection
    from django.utils import timezone

    from audit.checkpoints import audit_trail_verify
    from audit.models import Action, AuditEvent
    from audit.selectors import audit_events_of_patient_user, audit_events_search
    from audit.services import AuditDraft, audit_events_append
    from users.models import Patient

    patients = list(Patient.objects.select_related("user")[:PATIENTS])
    hot = patients[0]
    have = AuditEvent.objects.count()
    missing = max(0, events - have)
    actions = [Action.RECORD_READ, Action.ANNOTATION_READ, Action.DEMOGRAPHICS_READ, Action.RECORD_UPDATE]
    started = time.perf_counter()

    def fill(share: int) -> None:
        rng = random.Random(share)
        for _ in range(share // 500):
            drafts = [
                AuditDraft(
                    action=rng.choice(actions),
                    patient_id=hot.pk if rng.random() < 0.1 else rng.choice(patients).pk,
                    fields=("allergies", "medications"),
                )
                for _ in range(500)
            ]
            audit_events_append(actor=None, drafts=drafts)
        connection.close()

    fillers = [threading.Thread(target=fill, args=(missing // 4,)) for _ in range(4)]
    for thread in fillers:
        thread.start()
    for thread in fillers:
        thread.join()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE audit_auditevent")
        cursor.execute("SELECT pg_total_relation_size('audit_auditevent'), pg_relation_size('audit_auditevent')")
        total_bytes, heap_bytes = cursor.fetchone()
    count = AuditEvent.objects.count()
    hot_count = AuditEvent.objects.filter(patient=hot).count()
    filled = time.perf_counter() - started
    start = time.perf_counter()
    report, _, _ = audit_trail_verify(full=True, checkpoint=False)
    verify_seconds = time.perf_counter() - start
    assert report.broken is None, report.broken
    week = timezone.now() - datetime.timedelta(days=7)
    access_log = median_ms(lambda: list(audit_events_of_patient_user(user=hot.user)[:20]))
    by_patient = median_ms(lambda: list(audit_events_search(patient_id=patients[1].pk)[:20]))
    by_action = median_ms(lambda: list(audit_events_search(action=Action.RECORD_UPDATE, since=week)[:20]))
    unfiltered = median_ms(lambda: (list(audit_events_search()[:20]), audit_events_search().count()))
    print(f"\n### At {count:,} events ({missing:,} appended in {filled:.0f} s, 4 threads, 500 per statement)\n")
    print("| measure | this build |")
    print("|---|---:|")
    print(f"| bytes per event (table + indexes) | {total_bytes / count:,.0f} (heap {heap_bytes / count:,.0f}) |")
    print(f"| `verify_audit --full` | {verify_seconds:.1f} s, {report.checked / verify_seconds:,.0f} events/s |")
    print(f"| `myAccessLog` first page, patient with {hot_count:,} events | {access_log:.2f} ms |")
    print(f"| `auditEvents` first page, by patient | {by_patient:.2f} ms |")
    print(f"| `auditEvents` first page, action + 7-day range | {by_action:.2f} ms |")
    print(f"| `auditEvents` first page + `totalCount`, unfiltered | {unfiltered:.2f} ms |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="Per cell of the append table.")
    parser.add_argument(
        "--events", type=int, default=300_000, help="Events in the trail for the second table (0: skip it)."
    )
    parser.add_argument("--skip-appends", action="store_true")
    args = parser.parse_args()
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    from users.models import Patient

    call_command("migrate", verbosity=0, interactive=False)
    if Patient.objects.count() < PATIENTS:
        call_command("seed_demo", patients=PATIENTS, annotations_per_patient=0, stdout=io.StringIO())
    if not args.skip_appends:
        append_table(args.seconds)
    if args.events:
        scale_table(args.events)


if __name__ == "__main__":
    main()
