"""Slow clients cannot starve the production server (DESIGN.md section 5, issue 11).

`make serve` (ops/serve.py) puts nginx in front of gunicorn: nginx reads each request whole before
a worker sees it. Here the real launcher runs with 2 sync workers while 50 sockets send their
headers and then trickle their bodies a byte a second; 100 ordinary requests must all be answered
while every one of those 50 is still open and unanswered. Without nginx, 4 such sockets kept a
`{__typename}` waiting 8-12 s behind 2 workers.

On PostgreSQL the servers use the test database; on SQLite (whose test database is in memory) a
file of their own, which the launcher's own `migrate` creates.
"""

import json
import os
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import threading
import time
from pathlib import Path

import pytest

from audit.models import Action, AuditEvent
from ops.serve import find_nginx
from tests.conftest import is_postgres
from tests.ops.servers import BASE_DIR, ServeLauncher, production_env

pytestmark = pytest.mark.skipif(
    find_nginx() is None,
    reason="nginx is not installed (apt-get install nginx): `make serve` refuses to start without it",
)

SLOW_CLIENTS = 50
NORMAL_REQUESTS = 100
TYPENAME = "{ __typename }"
LOGIN = "mutation($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token } }"

# A valid request whose body arrives a byte at a time: the padding is what trickles.
SLOW_BODY_PREFIX = b'{"query": "{ __typename }", "variables": {}, "pad": "'
SLOW_BODY_SUFFIX = b'"}'
SLOW_BODY_LENGTH = 4096


def serve_env(root: Path, **overrides: str) -> dict[str, str]:
    database = {} if is_postgres() else {"DATABASE_URL": f"sqlite:///{(root / 'serve.sqlite3').resolve()}"}
    return production_env(
        STATIC_ROOT=str(root / "static"),
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="1",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        **database,
        **overrides,
    )


@pytest.fixture(scope="module")
def serve_root(django_db_setup, tmp_path_factory) -> Path:
    """The servers' files: on SQLite their database, which the first launcher's migrate creates."""
    return tmp_path_factory.mktemp("serve")


@pytest.fixture(scope="module")
def served(serve_root):
    """The production path, as `make serve` starts it: 2 sync gunicorn workers behind nginx."""
    root = serve_root
    server = ServeLauncher("serve", None, serve_env(root), root / "serve.log")
    try:
        server.wait_healthy(timeout=120)  # its own migrate and collectstatic run first
        assert server.get("/healthz")[2]["Server"] == "nginx", "another server took the port"
        yield server
    finally:
        server.stop()


class SlowClient:
    """A socket that sent its headers and trickles its body, as a slowloris client does."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sent = 0
        self.sock.sendall(
            b"POST /graphql/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % SLOW_BODY_LENGTH + SLOW_BODY_PREFIX
        )
        self.sent = len(SLOW_BODY_PREFIX)

    def trickle(self) -> None:
        if self.sent < SLOW_BODY_LENGTH - len(SLOW_BODY_SUFFIX) - 1:
            self.sock.sendall(b"a")
            self.sent += 1

    def answered(self) -> bool:
        """Whether the server said anything or hung up (a peek: nothing is consumed)."""
        self.sock.setblocking(False)
        try:
            self.sock.recv(1, socket.MSG_PEEK)
            return True  # bytes, or b"" for a closed connection
        except BlockingIOError:
            return False
        except OSError:
            return True  # reset
        finally:
            self.sock.setblocking(True)

    def finish(self) -> tuple[int, dict]:
        """Send the rest of the body; the server's status and JSON answer."""
        padding = SLOW_BODY_LENGTH - self.sent - len(SLOW_BODY_SUFFIX)
        self.sock.sendall(b"a" * padding + SLOW_BODY_SUFFIX)
        response = b""
        while b"\r\n\r\n" not in response or len(response.partition(b"\r\n\r\n")[2]) < content_length(response):
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            response += chunk
        head, _, body = response.partition(b"\r\n\r\n")
        return int(head.split()[1]), json.loads(body)

    def close(self) -> None:
        self.sock.close()


def content_length(response: bytes) -> int:
    for line in response.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


class Trickler:
    """Sends one more body byte on every slow socket about once a second, until stopped."""

    def __init__(self, clients: list[SlowClient]) -> None:
        self.clients, self.errors = clients, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(1.0):  # the pace of a slow client, not a wait for an outcome
            for client in self.clients:
                try:
                    client.trickle()
                except OSError as error:
                    self.errors.append(repr(error))

    def __enter__(self) -> "Trickler":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, int(-(-fraction * len(ordered) // 1)) - 1)]


def test_normal_requests_are_answered_while_fifty_clients_trickle_their_bodies(served, record_property):
    # given 50 clients that sent their headers and are trickling their bodies, 2 workers behind nginx
    log_before = len(served.log())
    clients = [SlowClient(served.port) for _ in range(SLOW_CLIENTS)]
    try:
        with Trickler(clients) as trickler:
            # when 100 ordinary requests are sent one after another
            latencies, answers = [], []
            for _ in range(NORMAL_REQUESTS):
                started = time.perf_counter()
                response = served.graphql(TYPENAME)
                latencies.append(time.perf_counter() - started)
                answers.append((response.status, response.body))
            # then every one was answered, while no slow client has been answered or cut off
            unanswered = [client for client in clients if not client.answered()]
        assert answers == [(200, {"data": {"__typename": "Query"}})] * NORMAL_REQUESTS
        assert len(unanswered) == SLOW_CLIENTS
        assert trickler.errors == []
        # ... none of the slow requests reached the app (it logs one line per request it handles)
        graphql_lines = [line for line in served.log()[log_before:].splitlines() if '"path": "/graphql/"' in line]
        assert len(graphql_lines) == NORMAL_REQUESTS
        # ... and they were live requests all along: one that completes its body is answered
        assert clients[0].finish() == (200, {"data": {"__typename": "Query"}})
    finally:
        for client in clients:
            client.close()

    p50, p99 = statistics.median(latencies) * 1000, percentile(latencies, 0.99) * 1000
    record_property("p50_ms", round(p50, 2))
    record_property("p99_ms", round(p99, 2))
    print(f"\n{NORMAL_REQUESTS} requests beside {SLOW_CLIENTS} trickling clients, nginx + 2 sync workers: "
          f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(latencies) * 1000:.1f} ms")


def test_a_body_over_one_mebibyte_is_refused_by_the_proxy_in_json(served):
    # given a body just over the API's 1 MiB limit
    query = "{ __typename }" + " " * (1024 * 1024)
    # when
    response = served.graphql(query)
    # then nginx refuses it, answering like the API does
    assert response.status == 413
    assert response.codes == ["QUERY_TOO_COMPLEX"]
    assert response.headers["Content-Type"] == "application/json"


def test_the_client_address_is_the_one_nginx_saw_not_the_one_the_client_claims(served, transactional_db):
    # given a client that claims another address in X-Forwarded-For
    # when its login fails (failed logins are audited with the caller's address)
    response = served.graphql(LOGIN, {"u": "nobody-here", "p": "wrong"}, headers={"X-Forwarded-For": "203.0.113.9"})
    # then the app counted nginx as the one proxy: the address is the real peer's
    assert response.codes == ["UNAUTHENTICATED"]
    assert audited_login_failure_ips(served) == ["127.0.0.1"]


def audited_login_failure_ips(server: ServeLauncher) -> list[str | None]:
    if is_postgres():
        return list(AuditEvent.objects.filter(action=Action.LOGIN_FAILURE).values_list("ip", flat=True))
    database = server.log_path.parent / "serve.sqlite3"
    with sqlite3.connect(database) as conn:
        rows = conn.execute(
            f"SELECT ip FROM {AuditEvent._meta.db_table} WHERE action = ?", [Action.LOGIN_FAILURE.value]  # noqa: S608
        ).fetchall()
    return [ip for (ip,) in rows]


def test_without_nginx_make_serve_refuses_to_start_and_says_how_to_install_it(tmp_path):
    # given no nginx binary (and no SERVE_BEHIND_PROXY)
    env = {**serve_env(tmp_path), "NGINX": str(tmp_path / "no-nginx-here"), "SERVE_BEHIND_PROXY": ""}
    # when
    result = subprocess.run(
        ["make", "--no-print-directory", "serve"], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    # then it stops before migrating anything, saying what to do
    assert result.returncode != 0
    assert "nginx is not installed" in result.stderr
    assert "apt-get install nginx" in result.stderr
    assert "SERVE_BEHIND_PROXY=1" in result.stderr
    assert not (tmp_path / "serve.sqlite3").exists()


def test_make_serve_answers_through_nginx_and_stops_everything_when_a_child_dies(served, serve_root, tmp_path):
    # given `make serve` running (on the database `served` migrated), its run directory in sight
    run_dir = tmp_path / "run"
    env = serve_env(serve_root, SERVE_RUN_DIR=str(run_dir))
    server = ServeLauncher("make serve", None, env, tmp_path / "serve.log", command=["make", "serve"])
    try:
        server.wait_healthy(timeout=120)
        assert server.get("/healthz")[2]["Server"] == "nginx", "another server took the port"
        response = server.graphql(TYPENAME)
        assert (response.status, response.body) == (200, {"data": {"__typename": "Query"}})
        assert response.headers["Server"] == "nginx"  # no version: server_tokens off
        upstream = run_dir / "upstream" / "gunicorn.sock"
        assert upstream.exists()
        # when nginx dies
        os.kill(int((run_dir / "nginx.pid").read_text()), signal.SIGKILL)
        # then the launcher stops gunicorn and the outbox worker and fails
        returncode = server.process.wait(timeout=60)
        assert returncode != 0
        assert "nginx exited" in server.log()
        assert not upstream.exists()  # gunicorn removes its socket when it shuts down
        assert '"message": "Shutting down: Master"' in server.log()
        children = dict(re.findall(r"serve: (gunicorn|nginx|outbox worker) started \(pid (\d+)\)", server.log()))
        assert set(children) == {"gunicorn", "nginx", "outbox worker"}
        assert [name for name, pid in children.items() if is_running(int(pid))] == []
        # nothing of their process groups either: nginx's workers outlive a killed master otherwise
        assert [name for name, pid in children.items() if group_outlives(int(pid), seconds=10)] == []
    finally:
        server.stop()


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def group_outlives(pgid: int, *, seconds: float) -> bool:
    """Whether a process of the group is still there after a bounded wait (SIGKILLed processes
    take a moment to be reaped)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.05)  # polling interval of a bounded wait
    return True
