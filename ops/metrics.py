"""Prometheus instruments kept by each process; served at /metrics (ops.metrics_endpoint).

Several processes: gunicorn serves with several worker processes, each with its own samples, and
a scrape reaches one of them. With PROMETHEUS_MULTIPROC_DIR set (clinic/gunicorn.conf.py gives
every server start a fresh directory) prometheus_client keeps each process's samples in files
there and a scrape merges them all, dead workers' included, so counters never go backwards when
gunicorn recycles a worker. Without it (runserver, tests) the process's own registry is served.
The outbox gauges are not kept here at all: they are read from the database at scrape time.

This module imports no Django app: audit/chain.py times its appends with it while the apps load.
Label values are bounded: a client names its operations, so an unbounded label would let anyone
grow the scrape (and every process's memory) without limit.
"""

import re
import threading

from prometheus_client import Counter, Histogram

# Seconds: from a 5 ms cached read to a request that hit the 30 s gunicorn timeout.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
MAX_OPERATION_NAMES = 100  # per process; further names are counted as OTHER_OPERATION
OTHER_OPERATION, UNNAMED_OPERATION, NOT_GRAPHQL = "(other)", "(unnamed)", "-"
_OPERATION_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")  # a GraphQL Name, at most 64 characters

REQUEST_SECONDS = Histogram(
    "clinic_request_duration_seconds",
    "Time to answer a request, by GraphQL operation name and type ('-' for requests other than GraphQL).",
    ["operation", "type"],
    buckets=LATENCY_BUCKETS,
)
RATE_LIMITED = Counter(
    "clinic_login_rate_limited",
    "Requests refused with RATE_LIMITED: login lockouts of a username and IP, the per-username limit.",
)
AUDIT_APPEND_SECONDS = Histogram(
    "clinic_audit_append_duration_seconds",
    "Time to append a batch of audit events to the hash chain (one statement per batch).",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)

_operation_names: set[str] = set()
_operation_names_lock = threading.Lock()


def observe_request(request, *, seconds: float, error_codes: list[str]) -> None:
    """Called once per request by ops.middleware.RequestLogMiddleware, after the response."""
    operation_type = getattr(request, "graphql_operation_type", None)
    if operation_type:
        operation = _operation_label(getattr(request, "graphql_operation_name", None))
        REQUEST_SECONDS.labels(operation, operation_type).observe(seconds)
    else:
        REQUEST_SECONDS.labels(NOT_GRAPHQL, NOT_GRAPHQL).observe(seconds)
    if "RATE_LIMITED" in error_codes:
        RATE_LIMITED.inc()


def _operation_label(name: str | None) -> str:
    if not name:
        return UNNAMED_OPERATION
    if not _OPERATION_NAME.fullmatch(name):
        return OTHER_OPERATION
    with _operation_names_lock:
        if name in _operation_names:
            return name
        if len(_operation_names) >= MAX_OPERATION_NAMES:
            return OTHER_OPERATION
        _operation_names.add(name)
        return name
