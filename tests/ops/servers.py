"""Real gunicorn processes for tests: started on loopback ports 18800-18899, stopped in teardown."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.db import connection

BASE_DIR = Path(__file__).resolve().parents[2]
PORTS = range(18800, 18900)


def database_url() -> str:
    """The URL of the database the test process uses (the test database, after setup).

    On SQLite only a file can be shared with another process: the suite's in-memory test
    database cannot (give the servers a file of their own: sqlite_url).
    """
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        if connection.is_in_memory_db():
            raise RuntimeError("the SQLite test database is in memory: another process cannot open it")
        return sqlite_url(Path(s["NAME"]))
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def sqlite_url(path: Path) -> str:
    """A DATABASE_URL for the SQLite file at `path` (absolute: four slashes)."""
    return f"sqlite:///{path.resolve()}"


def production_env(**overrides: str) -> dict[str, str]:
    """clinic.settings (DEBUG off) on the test database, with the suite's keys, over plain HTTP."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "DJANGO"))}
    env.pop("DEBUG", None)
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings",
        # Only when not overridden: the suite's own database may be one no other process can open.
        DATABASE_URL=overrides.get("DATABASE_URL") or database_url(),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
    )
    env.update(overrides)
    return env


def development_env(**overrides: str) -> dict[str, str]:
    """What `make run` gives runserver: DEBUG on, the development keys, the settings' defaults."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "DJANGO"))}
    env.update(DJANGO_SETTINGS_MODULE="clinic.settings", DEBUG="1")
    env.update(overrides)
    return env


def free_port(taken: set[int]) -> int:
    for port in PORTS:
        if port in taken:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18800-18899")


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


GUNICORN = "gunicorn"
RUNSERVER = "runserver"


def server_command(kind: str, port: int) -> list[str]:
    """How each shipped way of serving starts: `make serve` (gunicorn) or `make run` (runserver)."""
    if kind == GUNICORN:
        return [sys.executable, "-m", "gunicorn", "--config", "clinic/gunicorn.conf.py"]
    if kind == RUNSERVER:
        # As `make run` (threaded), minus the autoreloader's second process watching the files.
        return [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    raise ValueError(f"unknown server kind {kind!r}")


class Server:
    """One server process of clinic: gunicorn configured by clinic/gunicorn.conf.py (the default)
    or Django's runserver (pass kind=RUNSERVER and a DEBUG=1 env, as `make run`), on whatever
    database `env["DATABASE_URL"]` names."""

    def __init__(self, name: str, port: int, env: dict[str, str], log_path: Path, *, kind: str = GUNICORN) -> None:
        self.name, self.port, self.log_path, self.kind = name, port, log_path, kind
        self.base_url = f"http://127.0.0.1:{port}"
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                server_command(kind, port),
                cwd=BASE_DIR,
                env={**env, "BIND": f"127.0.0.1:{port}"},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_healthy(self, timeout: float = 60) -> None:
        """Poll /healthz until it answers, with a deadline; fail at once if the process died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}):\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)  # the polling interval of a bounded wait
        raise RuntimeError(f"{self.name} not healthy within {timeout} s:\n{self.log()}")

    def get(self, path: str) -> tuple[int, bytes, dict]:
        try:
            with urllib.request.urlopen(f"{self.base_url}{path}", timeout=30) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read(), dict(error.headers)

    def graphql(self, query: str, variables: dict | None = None, *, token: str | None = None,
                headers: dict | None = None) -> Response:
        request = urllib.request.Request(
            f"{self.base_url}/graphql/",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json", **(headers or {})},
            method="POST",
        )
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Response(response.status, json.loads(response.read()), dict(response.headers))
        except urllib.error.HTTPError as error:
            return Response(error.code, json.loads(error.read() or b"{}"), dict(error.headers))

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def run_manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """`manage.py *args` in a subprocess; a failure raises with the command's own output."""
    try:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, check=True
        )
    except subprocess.CalledProcessError as error:
        # CalledProcessError's message leaves out stderr, the only place that says why.
        raise RuntimeError(
            f"manage.py {' '.join(args)} exited {error.returncode}:\n{error.stdout[-2000:]}{error.stderr[-4000:]}"
        ) from error


class MailCatcher:
    """A real SMTP server (aiosmtpd) in this process that keeps every message it accepts."""

    def __init__(self, port: int) -> None:
        from aiosmtpd.controller import Controller

        self.port = port
        self.accepted: list[bytes] = []
        self._controller = Controller(self, hostname="127.0.0.1", port=port)

    async def handle_DATA(self, server, session, envelope) -> str:
        self.accepted.append(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"

    def __enter__(self) -> "MailCatcher":
        self._controller.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._controller.stop()


class ServeLauncher(Server):
    """`make serve`'s process tree (ops/serve.py): migrate and collectstatic, then nginx on `port`
    in front of gunicorn (on a unix socket), and the outbox worker. Stopping it sends SIGTERM to
    the launcher alone, which stops its children (they run in process groups of their own).

    `command` may be ["make", "serve"] to start it through the Makefile.
    """

    def __init__(self, name: str, port: int, env: dict[str, str], log_path: Path, *,
                 command: list[str] | None = None) -> None:
        self.name, self.port, self.log_path = name, port, log_path
        self.base_url = f"http://127.0.0.1:{port}"
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command or [sys.executable, "-m", "ops.serve"],
                cwd=BASE_DIR,
                env={**env, "BIND": f"127.0.0.1:{port}"},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
