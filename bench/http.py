"""Throughput under a real server: gunicorn, one sync worker, loopback, a client in another process.

    python -m bench.http [--seconds S] [--connections C] [--port P]

Starts `gunicorn -c clinic/gunicorn.conf.py` (the production config: one `sync` worker here,
bound to 127.0.0.1:P, P in 18700-18799) on bench.settings, whose URLconf also serves the
hand-written views. The load generator is this module run again as a second process
(`--client`): C threads, each a loop of `http.client` POSTs (one connection per request: the
sync worker closes it), for S seconds per run. Runs alternate between the two sides twice.
Prints requests/s, errors (non-200 or a GraphQL `errors` key) and p50/p99 latency for:

- `{ me { id } }` through /graphql/ against a minimal hand-written JSON view that does the same
  (token authentication, the caller's global ID): target >= 0.95x its requests/s, zero errors;
- the 10-patient worklist through /graphql/, one connection (p50/p99 reported).
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

ROOT = Path(__file__).resolve().parent.parent
ME = "{ me { id } }"
THROUGHPUT_TARGET = 0.95  # issue 14 (issue 7 asked for 0.8)


def client(port: int, path: str, body: bytes, token: str, seconds: float, connections: int) -> dict:
    """The load generator's loop (runs in the client process)."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}", "X-Forwarded-Proto": "https"}
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def work():
        mine, failed = [], 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                content = response.read()
                conn.close()
                if response.status != 200 or b'"errors"' in content:
                    failed += 1
            except OSError:
                failed += 1
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=work) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {"requests": len(latencies), "errors": errors[0], "seconds": elapsed, "latencies": latencies}


def run_client_process(port, path, body, token, seconds, connections) -> dict:
    spec = json.dumps({"port": port, "path": path, "body": body.decode(), "token": token,
                       "seconds": seconds, "connections": connections})
    out = subprocess.run([sys.executable, "-m", "bench.http", "--client", spec], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def summary(runs: list[dict]) -> dict:
    requests = sum(run["requests"] for run in runs)
    seconds = sum(run["seconds"] for run in runs)
    latencies = sorted(latency for run in runs for latency in run["latencies"])
    return {
        "rps": requests / seconds,
        "errors": sum(run["errors"] for run in runs),
        "requests": requests,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def wait_for(port: int, server: subprocess.Popen) -> None:
    for _ in range(200):
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited early; see its output above")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("gunicorn did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each run")
    parser.add_argument("--connections", type=int, default=4, help="client threads")
    parser.add_argument("--port", type=int, default=18707, help="loopback port, 18700-18799")
    parser.add_argument("--client", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        spec = json.loads(args.client)
        print(json.dumps(client(spec["port"], spec["path"], spec["body"].encode(), spec["token"],
                                spec["seconds"], spec["connections"])))
        return 0
    if not 18700 <= args.port <= 18799:
        parser.error("--port must be in 18700-18799")

    import django

    django.setup()
    from bench.worklist import WORKLIST, prepare_database

    prepare_database(10)
    from users.models import User
    from users.sessions import SESSION_ID_CLAIM, session_create
    from users.token_library import get_token

    grey = User.objects.get(username="dr.grey")
    # 5 minutes: enough for the whole run; access tokens name a live session (DESIGN.md section 4)
    token = get_token(grey, **{SESSION_ID_CLAIM: str(session_create(user=grey).family_id)})
    env = {**os.environ, "BIND": f"127.0.0.1:{args.port}", "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "1",
           "GUNICORN_MAX_REQUESTS": "0"}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", "clinic/gunicorn.conf.py"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(args.port, server)
        me_body = json.dumps({"query": ME}).encode()
        worklist_body = json.dumps({"query": WORKLIST, "variables": {"first": 10}}).encode()
        # The worklist's latency is measured with one connection: no queueing behind the one worker.
        cases = {
            "hand-written me view": ("/bench/hello/", b"{}", args.connections),
            "graphql { me { id } }": ("/graphql/", me_body, args.connections),
            "graphql worklist, 10 patients": ("/graphql/", worklist_body, 1),
        }
        runs: dict[str, list[dict]] = {name: [] for name in cases}
        for _ in range(2):  # alternate, so drift on a shared machine hits every side alike
            for name, (path, body, connections) in cases.items():
                runs[name].append(run_client_process(args.port, path, body, token, args.seconds, connections))
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(f"gunicorn -c clinic/gunicorn.conf.py: 1 sync worker on 127.0.0.1:{args.port}; "
          f"client: a second Python process, {args.connections} threads of http.client "
          f"(1 for the worklist), 2 x {args.seconds:g} s per case")
    print(f"{'case':<32} {'req/s':>8} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8}")
    results = {name: summary(case_runs) for name, case_runs in runs.items()}
    for name, result in results.items():
        print(f"{name:<32} {result['rps']:>8.0f} {result['requests']:>9} {result['errors']:>7} "
              f"{result['p50']:>8.2f} {result['p99']:>8.2f}")
    ratio = results["graphql { me { id } }"]["rps"] / results["hand-written me view"]["rps"]
    print(f"me {{ id }} throughput: {ratio:.2f}x the hand-written view (target >= {THROUGHPUT_TARGET})")
    failures = []
    if ratio < THROUGHPUT_TARGET:
        failures.append(f"me {{ id }} at {ratio:.2f}x the hand-written view's requests/s")
    failures += [f"{result['errors']} errors in '{name}'" for name, result in results.items() if result["errors"]]
    for failure in failures:
        print("TARGET MISSED:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
