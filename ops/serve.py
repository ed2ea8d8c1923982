"""The production process tree behind `make serve`: nginx -> gunicorn, plus the outbox worker.

    python -m ops.serve

1. `migrate` (without the statement timeout: a data migration may run long) and `collectstatic`.
2. gunicorn (clinic/gunicorn.conf.py) on a unix socket in a private run directory.
3. nginx (ops/nginx/clinic.conf) on BIND / PORT (default 127.0.0.1:8000), in front of it.
4. `manage.py send_notifications --loop`, the outbox worker.

Why nginx: gunicorn's workers read request bodies themselves, so a few clients that send headers
and then trickle their bodies hold every worker (with 2 sync workers, 4 such sockets kept a plain
`{__typename}` waiting 8-12 s). nginx reads whole requests before passing them on and buffers
the answers; workers only see complete requests. nginx counts as one proxy hop: the launcher
passes TRUSTED_PROXY_HOPS + 1 to the app, so TRUSTED_PROXY_HOPS keeps meaning "proxies in front
of `make serve`".

SERVE_BEHIND_PROXY=1 skips nginx (gunicorn listens on BIND itself): only for a deployment whose own
proxy in front already buffers whole requests (nginx, HAProxy with `option http-buffer-request`,
a cloud load balancer that does). Without nginx and without that flag, the launcher refuses to
start. NGINX names the binary when it is not on PATH or in /usr/sbin. SERVE_RUN_DIR names the run
directory (nginx.conf, nginx.pid, its temporary files, gunicorn's socket) instead of a fresh
private one under the temporary directory, removed at exit.

The children run in their own process groups; SIGTERM, SIGINT and SIGQUIT stop them all
gracefully, SIGHUP reloads gunicorn's workers and nginx's configuration. When any child exits, the
others are stopped and the launcher exits non-zero. Children die with the launcher (Linux
PR_SET_PDEATHSIG) even if it is killed with SIGKILL.
"""

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
NGINX_TEMPLATE = BASE_DIR / "ops" / "nginx" / "clinic.conf"
STOP_GRACE_SECONDS = 35  # gunicorn's graceful_timeout (30) and a little
NOT_INSTALLED = """\
make serve: nginx is not installed, and the production server needs a buffering proxy in front of
gunicorn (slow clients would otherwise hold its workers). Install it:

    sudo apt-get install nginx        # Debian / Ubuntu (or: brew install nginx, dnf install nginx)

or set NGINX=/path/to/nginx. If this deployment already has its own proxy in front that buffers
whole requests before passing them on, start gunicorn alone with SERVE_BEHIND_PROXY=1.
"""


def log(message: str) -> None:
    print(f"serve: {message}", file=sys.stderr, flush=True)


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def find_nginx() -> str | None:
    if os.environ.get("NGINX"):
        return shutil.which(os.environ["NGINX"])  # None unless it names an executable
    # /usr/sbin is not on an ordinary user's PATH on Debian.
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def public_address() -> str:
    """Where clients connect: BIND (host:port or unix:path), or 0.0.0.0:$PORT, or 127.0.0.1:8000."""
    if os.environ.get("BIND"):
        return os.environ["BIND"]
    if os.environ.get("PORT"):
        return f"0.0.0.0:{os.environ['PORT']}"
    return "127.0.0.1:8000"


def write_nginx_conf(run_dir: Path, upstream_socket: Path) -> Path:
    # nginx's workers run as whoever started the launcher, as gunicorn does. Started as root (CI,
    # containers) they would drop to nobody, who cannot reach a run directory under a private
    # parent (pytest's, a service's): keep them as root then. Production runs as a service user.
    user_line = "user root;" if os.geteuid() == 0 else ""
    # Behind a TLS-terminating proxy that overwrites X-Forwarded-Proto (TRUST_X_FORWARDED_PROTO=1)
    # its value goes on; otherwise nginx states its own scheme, whatever the client claimed.
    forwarded_proto = "$http_x_forwarded_proto" if env_flag("TRUST_X_FORWARDED_PROTO") else "$scheme"
    text = NGINX_TEMPLATE.read_text()
    for name, value in {
        "USER": user_line,
        "RUN_DIR": str(run_dir),
        "LISTEN": public_address(),
        "UPSTREAM": f"unix:{upstream_socket}",
        "FORWARDED_PROTO": forwarded_proto,
    }.items():
        text = text.replace(f"@{name}@", value)
    path = run_dir / "nginx.conf"
    path.write_text(text)
    return path


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: if the launcher dies (even by SIGKILL), the kernel
    # sends this child SIGTERM, so no gunicorn or nginx is left holding the port.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the launcher still stops its children on every signal it can catch


class Child:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], stop_signal: int) -> None:
        self.name, self.stop_signal = name, stop_signal
        # Own process group: a terminal's Ctrl-C reaches the launcher only, which stops each child
        # the graceful way for that program (nginx: SIGQUIT; gunicorn and the worker: SIGTERM).
        self.process = subprocess.Popen(  # noqa: S603 - our own argv, no shell
            argv, cwd=BASE_DIR, env=env, process_group=0, preexec_fn=_die_with_parent
        )
        log(f"{name} started (pid {self.process.pid})")

    def end_group(self) -> None:
        # The child leads its own process group. If it died by a signal its own children are
        # orphaned there (nginx's workers keep the listening socket: a restart would find the
        # port taken), so whatever is left of the group is killed.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass  # the group is empty: everything stopped

    def send(self, signum: int) -> None:
        if self.process.poll() is None:
            try:
                self.process.send_signal(signum)
            except ProcessLookupError:
                pass


def run_manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)  # noqa: S603


def main() -> int:
    behind_proxy = env_flag("SERVE_BEHIND_PROXY")
    nginx = None if behind_proxy else find_nginx()
    if not behind_proxy and not nginx:
        sys.stderr.write(NOT_INSTALLED)
        return 2

    env = dict(os.environ)
    try:
        run_manage({**env, "DATABASE_STATEMENT_TIMEOUT_MS": "0"}, "migrate", "--noinput")
        run_manage(env, "collectstatic", "--noinput")
    except subprocess.CalledProcessError as error:
        log(f"{' '.join(error.cmd[1:3])} failed with status {error.returncode}")
        return error.returncode

    stopping = False
    children: list[Child] = []

    def on_signal(signum, frame) -> None:
        nonlocal stopping
        if signum == signal.SIGHUP:
            for child in children:
                if child.name in ("gunicorn", "nginx"):
                    child.send(signal.SIGHUP)
            return
        if not stopping:
            log(f"{signal.Signals(signum).name}: stopping")
        stopping = True

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP):
        signal.signal(signum, on_signal)

    run_dir = Path(os.environ.get("SERVE_RUN_DIR") or tempfile.mkdtemp(prefix="clinic-serve-"))
    run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        if behind_proxy:
            gunicorn_env = {**env, "BIND": public_address()}
        else:
            socket_dir = run_dir / "upstream"
            socket_dir.mkdir(mode=0o700, exist_ok=True)
            upstream_socket = socket_dir / "gunicorn.sock"
            upstream_socket.unlink(missing_ok=True)
            hops = int(env.get("TRUSTED_PROXY_HOPS") or 0) + 1
            gunicorn_env = {**env, "BIND": f"unix:{upstream_socket}", "TRUSTED_PROXY_HOPS": str(hops)}
        gunicorn = Child(
            "gunicorn",
            [sys.executable, "-m", "gunicorn", "--config", "clinic/gunicorn.conf.py"],
            gunicorn_env,
            signal.SIGTERM,
        )
        children.append(gunicorn)
        if not behind_proxy:
            conf = write_nginx_conf(run_dir, upstream_socket)
            # Until gunicorn listens, nginx would answer 503: wait for its socket first.
            deadline = time.monotonic() + 60
            while not upstream_socket.exists() and gunicorn.process.poll() is None and not stopping:
                if time.monotonic() > deadline:
                    log("gunicorn did not open its socket within 60 s: stopping")
                    supervise(children, lambda: True)
                    return 1
                time.sleep(0.05)  # the polling interval of a bounded wait
            if gunicorn.process.poll() is None and not stopping:
                children.append(
                    Child("nginx", [nginx, "-e", "stderr", "-p", str(run_dir), "-c", str(conf), "-g", "daemon off;"],
                          env, signal.SIGQUIT)
                )
        if not stopping:
            children.append(
                Child("outbox worker", [sys.executable, "manage.py", "send_notifications", "--loop"], env,
                      signal.SIGTERM)
            )
            log(f"serving on {public_address()}" + (" (gunicorn alone: SERVE_BEHIND_PROXY)" if behind_proxy else
                                                      f" (nginx -> gunicorn, run directory {run_dir})"))
        return supervise(children, lambda: stopping)
    finally:
        if "SERVE_RUN_DIR" not in os.environ:
            shutil.rmtree(run_dir, ignore_errors=True)


def supervise(children: list[Child], stop_requested) -> int:
    """Wait until a signal asks to stop or a child exits; then stop the rest. The exit status."""
    failed = None
    while not stop_requested():
        failed = next((child for child in children if child.process.poll() is not None), None)
        if failed:
            log(f"{failed.name} exited with status {failed.process.returncode}: stopping the others")
            break
        time.sleep(0.2)  # a supervisor's polling interval (signals interrupt it at once)
    for child in children:
        child.send(child.stop_signal)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in children:
        try:
            child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log(f"{child.name} did not stop within {STOP_GRACE_SECONDS} s: killing it")
            child.process.kill()
            child.process.wait()
    for child in children:
        child.end_group()
    if failed:
        code = failed.process.returncode
        return 128 - code if code < 0 else code or 1  # killed by a signal: the shell's 128 + N
    return 0


if __name__ == "__main__":
    sys.exit(main())
