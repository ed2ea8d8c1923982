"""A bounded load run over real HTTP: `make load` (or `python -m ops.loadtest`).

Several client threads, each signed in as its own user, mix what a clinic does all day:
doctors load their worklist, read a record and add annotations; coordinators assign and
unassign doctors; patients read their own record. At the end every annotation the server
acknowledged is read back through the API: none may be missing (no lost writes). The run
fails (exit status 1) on any error or lost write, and prints p50/p99 per operation.

Environment:
  DATABASE_URL   the PostgreSQL database (required; the load users are created there)
  LOAD_SECONDS   how long the clients run (default 30)
  LOAD_CLIENTS   concurrent client threads (default 8)
  LOAD_URL       a server already running on that database (e.g. `make serve`); without it,
                 the run starts one like `make serve` (migrate, collectstatic, gunicorn with
                 clinic/gunicorn.conf.py) on a free loopback port and stops it afterwards.
Without SECRET_KEY / JWT_SECRET_KEY in the environment the run makes throwaway ones (it
signs no tokens itself: it logs in through the API like any client).
"""

import base64
import datetime
import http.client
import json
import os
import secrets
import signal
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ops.launch import BASE_DIR, Server, launch, run_manage

PASSWORD = "load-run-password-0f9e8d7c"
TOKEN_REFRESH_AFTER = 240  # seconds: access tokens live 5 minutes

WORKLIST = """query Worklist { patients(first: 20) { totalCount edges { node { fullName
  healthRecord { id allergies annotations(first: 5) { totalCount edges { node { body author { fullName } } } } }
} } } }"""
RECORD = """query Record($id: ID!) { node(id: $id) { ... on HealthRecord { id bloodType allergies medications
  updatedAt annotations(first: 10) { totalCount edges { node { id body createdAt retractedAt } } } } } }"""
ADD_ANNOTATION = "mutation Annotate($input: AddAnnotationInput!) { addAnnotation(input: $input) { id body } }"
ASSIGN = "mutation Assign($input: AssignDoctorInput!) { assignDoctor(input: $input) { id active } }"
END = "mutation Unassign($input: EndAssignmentInput!) { endAssignment(input: $input) { id active } }"
MY_RECORD = """query MyRecord { myHealthRecord { allergies medications updatedAt
  annotations(first: 10) { totalCount edges { node { body createdAt author { fullName } } } } } }"""
ASSIGNMENTS = "query Assignments { assignments(first: 20, active: true) { totalCount edges { node { id } } } }"
LOGIN = "mutation Login($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token } }"
ANNOTATIONS_PAGE = """query Annotations($id: ID!, $after: String) { node(id: $id) { ... on HealthRecord {
  annotations(first: 100, after: $after) { edges { node { id body } } pageInfo { hasNextPage endCursor } } } } }"""


def global_id(type_name: str, pk) -> str:
    """Relay's global ID, as the schema makes it (base64 of "Type:pk")."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


# --- the data the clients work on --------------------------------------------------------------


@dataclass
class Part:
    """What one client thread does: its role, who it signs in as, and the ids it works on."""

    role: str  # doctor | coordinator | patient
    username: str
    ids: tuple[str, ...] = ()  # doctor: (record,); coordinator: (doctor, patient) to assign and unassign


ROLES = ("doctor", "doctor", "coordinator", "patient")


def prepare_cast(clients: int) -> list[Part]:
    """Idempotently create the load users through the real services."""
    import django

    django.setup()
    from django.contrib.auth.models import Permission

    from care.models import Assignment
    from care.services import assignment_create, assignment_end
    from records.services import patient_register
    from users.models import Doctor, Patient, User
    from users.services import doctor_create, user_create

    def user(username: str, **extra) -> User:
        existing = User.objects.filter(username=username).first()
        return existing or user_create(
            username=username, email=f"{username}@load.clinic.example", password=PASSWORD, **extra
        )

    def doctor(username: str) -> Doctor:
        existing = Doctor.objects.filter(user__username=username).first()
        return existing or doctor_create(
            user=user(username, first_name="Load", last_name=username),
            specialty="Load testing",
            license_number=f"LOAD-{username}",
        )

    def patient(username: str) -> Patient:
        existing = Patient.objects.filter(user__username=username).first()
        return existing or patient_register(
            username=username,
            email=f"{username}@load.clinic.example",
            password=PASSWORD,
            first_name="Load",
            last_name=username,
            date_of_birth=datetime.date(1970, 1, 1),
        )

    coordinator = user("load.coordinator", is_staff=True, first_name="Load", last_name="Coordinator")
    coordinator.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="care", codename__in=["add_assignment", "change_assignment"])
    )
    coordinator = User.objects.get(pk=coordinator.pk)  # drop the permission cache

    cast = []
    for i in range(clients):
        role = ROLES[i % len(ROLES)]
        if role == "doctor":
            dr, pt = doctor(f"load.dr{i}"), patient(f"load.pt{i}")
            if not Assignment.objects.filter(doctor=dr, patient=pt, ended_at__isnull=True).exists():
                assignment_create(actor=coordinator, doctor=dr, patient=pt)
            cast.append(Part(role, dr.user.username, (global_id("HealthRecord", pt.health_record.pk),)))
        elif role == "coordinator":
            # Each coordinator thread owns its pair: concurrent assignDoctor of one pair is a CONFLICT.
            dr, pt = doctor(f"load.float{i}"), patient(f"load.pt{i}")
            for leftover in Assignment.objects.filter(doctor=dr, patient=pt, ended_at__isnull=True):
                assignment_end(actor=coordinator, assignment=leftover)
            cast.append(Part(role, coordinator.username, (global_id("Doctor", dr.pk), global_id("Patient", pt.pk))))
        else:
            cast.append(Part(role, patient(f"load.pt{i}").user.username))
    return cast


# --- the clients -----------------------------------------------------------------------------


class Failure(Exception):
    pass


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)
    annotations: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))  # record -> id: body
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, operation: str, detail: str) -> None:
        with self.lock:
            self.errors[operation] += 1
            if len(self.samples) < 10:
                self.samples.append(f"{operation}: {detail}")


class Client:
    """One signed-in user over one HTTP connection (kept alive where the server allows)."""

    def __init__(self, base_url: str, username: str, stats: Stats) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        self.host, self.port = parsed.hostname, parsed.port or 80
        self.path = (parsed.path.rstrip("/") or "") + "/graphql/"
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.username = username
        self.stats = stats
        self.token = None
        self.logged_in_at = 0.0

    def post(self, operation: str, query: str, variables: dict | None = None, *, timed: bool = True) -> dict:
        if self.username and (self.token is None or time.monotonic() - self.logged_in_at > TOKEN_REFRESH_AFTER):
            self.login()
        body = json.dumps({"query": query, "variables": variables or {}})
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        started = time.perf_counter()
        try:
            self.connection.request("POST", self.path, body=body, headers=headers)
            response = self.connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()
            raise Failure(f"{type(error).__name__}: {error}") from error
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise Failure(f"HTTP {response.status}")
        payload = json.loads(raw)
        if payload.get("errors"):
            codes = [error.get("extensions", {}).get("code") for error in payload["errors"]]
            raise Failure(f"GraphQL errors {codes}")
        if timed:
            with self.stats.lock:
                self.stats.latencies[operation].append(elapsed)
        return payload["data"]

    def login(self) -> None:
        username, self.username = self.username, None  # no recursion through post()
        try:
            data = self.post("tokenAuth", LOGIN, {"u": username, "p": PASSWORD})
        finally:
            self.username = username
        self.token = data["tokenAuth"]["token"]
        self.logged_in_at = time.monotonic()

    def step(self, operation: str, query: str, variables: dict | None = None) -> dict | None:
        try:
            return self.post(operation, query, variables)
        except Failure as error:
            self.stats.error(operation, str(error))
            return None


def doctor_loop(client: Client, record_id: str, deadline: float, prefix: str) -> None:
    n = 0
    while time.monotonic() < deadline:
        client.step("worklist", WORKLIST)
        client.step("readRecord", RECORD, {"id": record_id})
        n += 1
        body = f"{prefix} note {n} by {client.username}"
        data = client.step("addAnnotation", ADD_ANNOTATION, {"input": {"recordId": record_id, "body": body}})
        if data:
            with client.stats.lock:
                client.stats.annotations[record_id][data["addAnnotation"]["id"]] = body


def coordinator_loop(client: Client, doctor_id: str, patient_id: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        data = client.step("assignDoctor", ASSIGN, {"input": {"doctorId": doctor_id, "patientId": patient_id}})
        if data:
            client.step("endAssignment", END, {"input": {"id": data["assignDoctor"]["id"]}})
        client.step("assignments", ASSIGNMENTS)


def patient_loop(client: Client, deadline: float) -> None:
    while time.monotonic() < deadline:
        client.step("myHealthRecord", MY_RECORD)


def verify_annotations(base_url: str, cast: list[Part], stats: Stats) -> int:
    """Read every acknowledged annotation back through the API; return how many are missing."""
    missing = 0
    for username, record_id in [(part.username, part.ids[0]) for part in cast if part.role == "doctor"]:
        expected = stats.annotations.get(record_id, {})
        if not expected:
            continue
        reader = Client(base_url, username, stats)
        found: dict[str, str] = {}
        after = None
        while True:
            data = reader.post("verify", ANNOTATIONS_PAGE, {"id": record_id, "after": after}, timed=False)
            page = data["node"]["annotations"]
            found.update((edge["node"]["id"], edge["node"]["body"]) for edge in page["edges"])
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        missing += sum(1 for pk, body in expected.items() if found.get(pk) != body)
    return missing


# --- the server, when the run starts its own --------------------------------------------------


def start_server(log_path: Path) -> Server:
    env = dict(os.environ)
    # As `make serve` does: migrations without the statement timeout, then the static files.
    run_manage({**env, "DATABASE_STATEMENT_TIMEOUT_MS": "0"}, "migrate", "--noinput")
    run_manage(env, "collectstatic", "--noinput")
    return launch("gunicorn", env, log_path, ready_path="/readyz")


# --- the run ---------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(stats: Stats, seconds: float, missing: int, acknowledged: int) -> None:
    everything = [value for values in stats.latencies.values() for value in values]
    total_errors = sum(stats.errors.values())
    print(f"\n{'operation':<16}{'ok':>8}{'errors':>8}{'p50 ms':>10}{'p99 ms':>10}")
    for operation in sorted(set(stats.latencies) | set(stats.errors)):
        values = stats.latencies.get(operation, [])
        p50 = f"{percentile(values, 0.50) * 1000:.1f}" if values else "-"
        p99 = f"{percentile(values, 0.99) * 1000:.1f}" if values else "-"
        print(f"{operation:<16}{len(values):>8}{stats.errors.get(operation, 0):>8}{p50:>10}{p99:>10}")
    if everything:
        print(
            f"{'all':<16}{len(everything):>8}{total_errors:>8}"
            f"{percentile(everything, 0.50) * 1000:>10.1f}{percentile(everything, 0.99) * 1000:>10.1f}"
        )
    print(f"\n{len(everything) / seconds:.0f} requests/s over {seconds:.1f} s")
    print(f"annotations acknowledged: {acknowledged}, missing afterwards: {missing}")
    for sample in stats.samples:
        print(f"  error: {sample}")


def main() -> int:
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        print("make load runs against PostgreSQL: set DATABASE_URL=postgres://...", file=sys.stderr)
        return 2
    seconds = float(os.environ.get("LOAD_SECONDS") or 30)
    clients = int(os.environ.get("LOAD_CLIENTS") or 8)
    base_url = os.environ.get("LOAD_URL", "").rstrip("/")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    # Production settings need keys to load; this process only creates users, and the server it
    # starts signs tokens that nobody else checks: throwaway keys do unless some are given.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    os.environ.setdefault("JWT_SECRET_KEY", secrets.token_urlsafe(48))
    os.environ.setdefault("MFA_ENCRYPTION_KEY", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    os.environ.setdefault("MFA_REQUIRED_ROLES", "")  # the load's doctors sign in with a password alone
    if not base_url:
        # A loopback run of production settings: plain HTTP, no real email.
        os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
        os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
        os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend")
        os.environ.setdefault("LOG_LEVEL", "WARNING")  # the request log of a load run is noise here
    sys.path.insert(0, str(BASE_DIR))
    # A stopped run (Ctrl-C or SIGTERM) still stops the server it started, in the finally below.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))

    server = None
    with tempfile.TemporaryDirectory(prefix="clinic-load-") as scratch:
        if not base_url:
            os.environ.setdefault("STATIC_ROOT", str(Path(scratch) / "static"))
            server = start_server(Path(scratch) / "server.log")
            base_url = server.base_url
            print(f"server: gunicorn on {base_url} (log: {Path(scratch) / 'server.log'})")
        try:
            cast = prepare_cast(clients)
            stats = Stats()
            prefix = f"load-{secrets.token_hex(4)}"
            signed_in = []
            for part in cast:
                client = Client(base_url, part.username, stats)
                client.login()
                signed_in.append((part, client))
            print(f"{clients} clients for {seconds:.0f} s against {base_url} ...")
            started = time.monotonic()
            deadline = started + seconds
            workers = []
            for part, client in signed_in:
                if part.role == "doctor":
                    target, args = doctor_loop, (client, *part.ids, deadline, prefix)
                elif part.role == "coordinator":
                    target, args = coordinator_loop, (client, *part.ids, deadline)
                else:
                    target, args = patient_loop, (client, deadline)
                worker = threading.Thread(target=target, args=args, name=part.username)
                worker.start()
                workers.append(worker)
            for worker in workers:
                worker.join()
            elapsed = time.monotonic() - started
            acknowledged = sum(len(notes) for notes in stats.annotations.values())
            missing = verify_annotations(base_url, cast, stats)
            report(stats, elapsed, missing, acknowledged)
        finally:
            if server is not None:
                server.stop()
    failed = sum(stats.errors.values()) > 0 or missing > 0 or acknowledged == 0
    print("\nFAILED" if failed else "\nOK: zero errors, zero lost writes")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
