"""The worklist through the real /graphql/ view against the hand-written view, in one process.

    python -m bench.worklist [--repeat R] [--sizes 10,100,1000]

Both are called through Django's WSGI handler (clinic.wsgi.application: the full middleware
stack, no test client, no network), alternately, on the same data. Their responses must be
byte-for-byte identical. Prints, per side, the median wall time and the median process CPU time
of R runs and their ratios, the peak memory (tracemalloc) and the SQL statements of one request
each, and the targets of issue 14; exits non-zero when a target is missed.
"""

import argparse
import io
import json
import os
import statistics
import sys
import time
import tracemalloc

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

WORKLIST = """query Worklist($first: Int!) {
  patients(first: $first) { edges { node { fullName healthRecord { allergies medications updatedAt
    annotations(first: 10) { edges { node { body createdAt author { fullName } } } } } } } }
}"""
# Issue 14: the worklist at most 1.20x the hand-written view, by wall and by CPU time, at 100 and at
# 1,000 patients; peak memory at most 1.3x (any size).
RATIO_TARGETS = {100: 1.20, 1000: 1.20}
MEMORY_TARGET = 1.3
ANNOTATIONS_PER_PATIENT = 5


def prepare_database(patients: int) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("seed_demo", patients=patients, annotations_per_patient=ANNOTATIONS_PER_PATIENT, stdout=io.StringIO())


def wsgi_post(application, path: str, body: bytes, token: str) -> tuple[str, bytes]:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_X_FORWARDED_PROTO": "https",  # as behind the TLS-terminating proxy production has
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    status_holder = []
    result = application(environ, lambda status, headers, exc_info=None: status_holder.append(status))
    try:
        content = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return status_holder[0], content


def statements(call) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


def peak_memory(call) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=21, help="timed runs per size and side (median reported)")
    parser.add_argument("--sizes", default="10,100,1000", help="patients per request")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    import django

    django.setup()
    prepare_database(max(sizes))

    from clinic.wsgi import application
    from users.models import User
    from users.sessions import SESSION_ID_CLAIM, session_create
    from users.token_library import get_token

    grey = User.objects.get(username="dr.grey")
    session = {SESSION_ID_CLAIM: str(session_create(user=grey).family_id)}  # access tokens name a live session
    from django.db import connection

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; "
          f"called through clinic.wsgi.application (Django WSGI handler, full middleware)")
    print(f"{'patients':>8} {'graphql ms':>11} {'hand ms':>9} {'ratio':>6} {'graphql cpu':>12} {'hand cpu':>9} "
          f"{'ratio':>6} {'graphql KiB':>12} {'hand KiB':>9} {'mem x':>6} {'SQL':>7}")
    failures = []
    for size in sizes:
        token = get_token(grey, **session)
        graphql_body = json.dumps({"query": WORKLIST, "variables": {"first": size}}).encode()
        hand_body = json.dumps({"first": size}).encode()

        def graphql(body=graphql_body, token=token):
            return wsgi_post(application, "/graphql/", body, token)

        def hand(body=hand_body, token=token):
            return wsgi_post(application, "/bench/worklist/", body, token)

        graphql_status, graphql_content = graphql()
        hand_status, hand_content = hand()
        assert graphql_status.startswith("200") and hand_status.startswith("200"), (graphql_status, hand_status)
        assert graphql_content == hand_content, "the two responses differ"
        returned = len(json.loads(graphql_content)["data"]["patients"]["edges"])
        assert returned == size, f"asked for {size} patients, got {returned}: seed more"
        for _ in range(3):  # warm caches on both sides
            graphql(), hand()
        times = {"graphql": [], "hand": []}
        cpu = {"graphql": [], "hand": []}
        for _ in range(args.repeat):  # alternate, so drift hits both alike
            for name, call in (("graphql", graphql), ("hand", hand)):
                started, cpu_started = time.perf_counter(), time.process_time()
                call()
                times[name].append(time.perf_counter() - started)
                cpu[name].append(time.process_time() - cpu_started)
        graphql_ms = statistics.median(times["graphql"]) * 1000
        hand_ms = statistics.median(times["hand"]) * 1000
        ratio = graphql_ms / hand_ms
        graphql_cpu, hand_cpu = (statistics.median(cpu[name]) * 1000 for name in ("graphql", "hand"))
        cpu_ratio = graphql_cpu / hand_cpu
        graphql_peak, hand_peak = peak_memory(graphql), peak_memory(hand)
        memory_ratio = graphql_peak / hand_peak
        graphql_sql, hand_sql = statements(graphql), statements(hand)
        print(f"{size:>8} {graphql_ms:>11.2f} {hand_ms:>9.2f} {ratio:>6.2f} {graphql_cpu:>12.2f} {hand_cpu:>9.2f} "
              f"{cpu_ratio:>6.2f} {graphql_peak / 1024:>12.0f} {hand_peak / 1024:>9.0f} {memory_ratio:>6.2f} "
              f"{graphql_sql:>3}/{hand_sql:<3}")
        if size in RATIO_TARGETS and ratio > RATIO_TARGETS[size]:
            failures.append(f"wall-time ratio {ratio:.2f} > {RATIO_TARGETS[size]} at {size} patients")
        if size in RATIO_TARGETS and cpu_ratio > RATIO_TARGETS[size]:
            failures.append(f"CPU-time ratio {cpu_ratio:.2f} > {RATIO_TARGETS[size]} at {size} patients")
        if memory_ratio > MEMORY_TARGET:
            failures.append(f"peak memory {memory_ratio:.2f}x > {MEMORY_TARGET}x at {size} patients")
    print("responses identical byte for byte at every size; SQL = statements per request, graphql/hand")
    print(f"targets (issue 14): wall and CPU ratio <= {RATIO_TARGETS}, peak memory <= {MEMORY_TARGET}x")
    for failure in failures:
        print("TARGET MISSED:", failure)
    if not failures:
        print("targets met")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
