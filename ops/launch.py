"""The one launcher of server processes for tests, `make load` and the fuzz script.

Starts clinic as `make serve` (ops/serve.py: nginx -> gunicorn), as gunicorn alone, or as
`make run`'s runserver, on a loopback port, waits for it with a deadline and stops its process
group. Also the two things every caller does first: a PostgreSQL database of its own, and
`manage.py` (migrate, seed_demo, collectstatic) in a subprocess.

Ports: the OS picks a free one (bind to port 0) from its whole ephemeral range rather than the
lowest free one of a small fixed range, which every parallel run would probe in the same order.
The port is still free only when probed, and a server binds it later (after its own migrate,
for `make serve`); if another process took it meanwhile, the server says so in its log and
`wait_healthy` starts it again on a new port.

Runs outside pytest (ops/loadtest.py, tests/security/fuzz_graphql.py): no Django import here.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]

GUNICORN = "gunicorn"
RUNSERVER = "runserver"
SERVE = "serve"  # ops/serve.py, as `make serve`

# What gunicorn, runserver and nginx (through ops/serve.py) log when their port was taken.
PORT_TAKEN_MESSAGES = ("Connection in use", "That port is already in use", "Address already in use")
# A lost race for a port is rare: a few new ports are plenty, more means something else is wrong.
PORT_ATTEMPTS = 4


def free_port(taken: Collection[int] = ()) -> int:
    """A loopback TCP port nothing listens on now, chosen by the OS, and not one of `taken`."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in taken:
            return port


def sqlite_url(path: Path) -> str:
    """A DATABASE_URL for the SQLite file at `path` (absolute: four slashes)."""
    return f"sqlite:///{path.resolve()}"


def run_manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """`manage.py *args` in a subprocess; a failure raises with the command's own output."""
    try:
        return subprocess.run(  # noqa: S603 - a fixed argv, no shell
            [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, check=True
        )
    except subprocess.CalledProcessError as error:
        # CalledProcessError's message leaves out stderr, the only place that says why.
        raise RuntimeError(
            f"manage.py {' '.join(args)} exited {error.returncode}:\n{error.stdout[-2000:]}{error.stderr[-4000:]}"
        ) from error


def migrate_and_seed(env: dict[str, str], *, password: str) -> None:
    """A database ready to serve: migrated, with the demo accounts (seed_demo) and `password`."""
    run_manage(env, "migrate", "--noinput")
    run_manage(env, "seed_demo", "--password", password)


def with_database(server_url: str, name: str) -> str:
    """The URL of database `name` on the server `server_url` names (query string kept)."""
    parts = urllib.parse.urlsplit(server_url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def postgres_database(server_url: str, name: str) -> Iterator[str]:
    """A fresh, empty database `name` on the PostgreSQL server of `server_url`; dropped afterwards."""
    import psycopg

    admin_url = with_database(server_url, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def stop_process_group(process: subprocess.Popen, timeout: float = 30) -> int:
    """SIGTERM to the process group `process` leads (started with start_new_session); SIGKILL
    if it has not exited within `timeout` seconds. Its exit status."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode


@dataclass
class Response:
    status: int
    body: dict
    headers: dict

    @property
    def data(self) -> dict | None:
        return self.body.get("data")

    @property
    def codes(self) -> list[str]:
        return [error["extensions"]["code"] for error in self.body.get("errors") or []]


def server_command(kind: str, port: int) -> list[str]:
    """How each shipped way of serving starts: `make serve`, gunicorn alone, or `make run`."""
    if kind == SERVE:
        return [sys.executable, "-m", "ops.serve"]
    if kind == GUNICORN:
        return [sys.executable, "-m", "gunicorn", "--config", "clinic/gunicorn.conf.py"]
    if kind == RUNSERVER:
        # As `make run` (threaded), minus the autoreloader's second process watching the files.
        return [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    raise ValueError(f"unknown server kind {kind!r}")


class Server:
    """One server process of clinic on whatever database `env["DATABASE_URL"]` names.

    gunicorn configured by clinic/gunicorn.conf.py (the default), Django's runserver
    (kind=RUNSERVER with a DEBUG=1 env, as `make run`) or `make serve`'s tree (kind=SERVE, or
    `command=["make", "serve"]`). `port` is only a first choice: see wait_healthy. In its own
    process group, so stop() ends whatever it started.
    """

    def __init__(self, name: str, port: int | None, env: dict[str, str], log_path: Path, *,
                 kind: str = GUNICORN, command: list[str] | None = None, ready_path: str = "/healthz") -> None:
        self.name, self.env, self.log_path, self.kind = name, env, log_path, kind
        self.command, self.ready_path = command, ready_path
        self._start(port or free_port(), mode="wb")

    def _start(self, port: int, *, mode: str = "ab") -> None:
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        with self.log_path.open(mode) as log:
            self.process = subprocess.Popen(  # noqa: S603 - a fixed argv, no shell
                self.command or server_command(self.kind, port),
                cwd=BASE_DIR,
                env={**self.env, "BIND": f"127.0.0.1:{port}"},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._log_start = self.log_path.stat().st_size

    def port_taken(self) -> bool:
        """Did this launch lose its port to another process (its log says so)?"""
        with self.log_path.open("rb") as log:
            log.seek(self._log_start)
            text = log.read().decode(errors="replace")
        return any(message in text for message in PORT_TAKEN_MESSAGES)

    def wait_healthy(self, timeout: float = 60) -> None:
        """Poll `ready_path` until it answers 200, with a deadline; fail at once if the process died.

        A launch whose port was taken between free_port and the bind is stopped and started again
        on another port (self.port and self.base_url change), up to PORT_ATTEMPTS launches.
        """
        deadline = time.monotonic() + timeout
        launches = 1
        while time.monotonic() < deadline:
            if self.port_taken() and launches < PORT_ATTEMPTS:
                self.stop()
                self._start(free_port({self.port}))
                launches += 1
                continue
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}):\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}{self.ready_path}", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)  # the polling interval of a bounded wait
        raise RuntimeError(f"{self.name} not healthy within {timeout} s:\n{self.log()}")

    def get(self, path: str) -> tuple[int, bytes, dict]:
        try:
            with urllib.request.urlopen(f"{self.base_url}{path}", timeout=30) as response:  # noqa: S310
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read(), dict(error.headers)

    def graphql(self, query: str, variables: dict | None = None, *, token: str | None = None,
                headers: dict | None = None) -> Response:
        request = urllib.request.Request(  # noqa: S310 - base_url is always http://127.0.0.1
            f"{self.base_url}/graphql/",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json", **(headers or {})},
            method="POST",
        )
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return Response(response.status, json.loads(response.read()), dict(response.headers))
        except urllib.error.HTTPError as error:
            return Response(error.code, json.loads(error.read() or b"{}"), dict(error.headers))

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        stop_process_group(self.process)


class ServeLauncher(Server):
    """`make serve`'s process tree (ops/serve.py): migrate and collectstatic, then nginx on `port`
    in front of gunicorn (on a unix socket), and the outbox worker. Stopping it sends SIGTERM to
    the launcher's group; ops/serve.py stops its children (in process groups of their own).

    `command` may be ["make", "serve"] to start it through the Makefile.
    """

    def __init__(self, name: str, port: int | None, env: dict[str, str], log_path: Path, *,
                 command: list[str] | None = None) -> None:
        super().__init__(name, port, env, log_path, kind=SERVE, command=command)


def launch(name: str, env: dict[str, str], log_path: Path, *, port: int | None = None, timeout: float = 60,
           **options) -> Server:
    """A Server started and healthy (Server's options: kind, command, ready_path); stopped again
    if it never got there, so a failed start leaves no process behind."""
    server = Server(name, port, env, log_path, **options)
    try:
        server.wait_healthy(timeout)
    except BaseException:
        server.stop()
        raise
    return server
