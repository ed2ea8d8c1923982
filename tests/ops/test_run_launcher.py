"""`make run`'s launcher (ops/run.py): runserver and the outbox worker, up together, down together."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from tests.ops.servers import BASE_DIR, free_port, run_manage

DEADLINE = 60
PASSWORD = "clinic-demo-2026"
LOGIN = "mutation ($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token } }"


def development_env(database: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "DJANGO"))}
    env.pop("EMAIL_BACKEND", None)  # the suite's locmem backend: the launcher must use DEBUG's console one
    env.update(DJANGO_SETTINGS_MODULE="clinic.settings", DEBUG="1", DATABASE_URL=f"sqlite:///{database}")
    return env


def post(base_url: str, query: str, variables: dict, token: str | None = None) -> dict:
    request = urllib.request.Request(
        f"{base_url}/graphql/",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def wait_until(condition, what: str, output) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"not within {DEADLINE} s: {what}\n{output()}"
        time.sleep(0.1)  # the polling interval of a bounded wait


def answers(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_make_run_serves_delivers_mail_and_stops_both_on_ctrl_c(tmp_path):
    # given a migrated, seeded development database (what `make run` does first)
    env = development_env(str(tmp_path / "db.sqlite3"))
    run_manage(env, "migrate", "--noinput")
    run_manage(env, "seed_demo", "--password", PASSWORD)
    port = free_port(set())
    base_url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "run.log"
    # when the launcher starts (in a session of its own, as a terminal's foreground job)
    with log_path.open("wb") as log:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "ops.run", f"127.0.0.1:{port}"],
            cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def output() -> str:
        return log_path.read_text(errors="replace")

    try:
        wait_until(lambda: answers(base_url), "runserver answers", output)
        wait_until(lambda: "Notification worker started" in output(), "the worker runs", output)
        # and staff assign a doctor through the API
        login = post(base_url, LOGIN, {"u": "coordinator", "p": PASSWORD})
        token = login["data"]["tokenAuth"]["token"]
        people = post(base_url, "{ doctors(first: 10) { edges { node { id fullName } } } "
                      "patients(first: 10) { edges { node { id } } } }", {}, token)
        house = next(e["node"]["id"] for e in people["data"]["doctors"]["edges"] if "House" in e["node"]["fullName"])
        patient = people["data"]["patients"]["edges"][0]["node"]["id"]
        assigned = post(base_url, "mutation ($input: AssignDoctorInput!) { assignDoctor(input: $input) { id } }",
                        {"input": {"doctorId": house, "patientId": patient}}, token)
        assert assigned.get("errors") is None, assigned
        # then the worker of the same command delivers its mail (the console backend prints it)
        wait_until(lambda: "Subject: A patient has been assigned to you" in output(), "the mail is printed", output)
        pids = [int(pid) for pid in re.findall(r"started \(pid (\d+)\)", output())]
        assert len(pids) == 2, output()
        # when Ctrl-C reaches the launcher
        os.killpg(launcher.pid, signal.SIGINT)
        assert launcher.wait(timeout=DEADLINE) == 0, output()
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()
    # then both children are gone and nothing listens on the port any more
    for pid in pids:
        try:
            os.kill(pid, 0)
            raise AssertionError(f"process {pid} still runs:\n{output()}")
        except ProcessLookupError:
            pass
    wait_until(lambda: not listening(port), "the development server's port is closed", output)
    assert "Notification worker stopped." in output()


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
