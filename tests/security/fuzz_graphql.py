"""Bounded schemathesis run against the real server, signed in as each role.

    .venv/bin/python tests/security/fuzz_graphql.py [--max-examples N] [--seed S]   (FUZZ_SEED=random to vary)

Builds a throwaway SQLite database with the demo data, serves it with gunicorn (the production
config, DEBUG off) on a free 127.0.0.1 port (ops/launch.py, the one launcher), logs in as a patient, a doctor and
staff, and lets schemathesis (GraphQL mode, from the committed schema.graphql) send generated
queries and mutations as each. Fails on any 5xx, INTERNAL error or leaked trace
(tests/security/fuzz_checks.py). Not collected by pytest; .ci/run runs it after the suite.
"""

import argparse
import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# Run as a script (tests/security/ first on the path): the launcher is in the project's ops/.
sys.path.insert(0, str(ROOT))

from ops.launch import Server, migrate_and_seed  # noqa: E402

PASSWORD = "fuzz-demo-password-2026"
ROLES = {"patient": "alice", "doctor": "dr.grey", "staff": "coordinator"}


def server_env(workdir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(48),
        JWT_SECRET_KEY=secrets.token_urlsafe(48),
        MFA_ENCRYPTION_KEY=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),  # a Fernet key
        MFA_REQUIRED_ROLES="",  # the doctor and staff fuzz every field, not only enrolment
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",  # plain HTTP on the loopback
        DATABASE_URL=f"sqlite:///{workdir / 'fuzz.sqlite3'}",
        STATIC_ROOT=str(workdir / "static"),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        WEB_CONCURRENCY="2",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


def graphql(url: str, query: str, variables: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
        return json.load(response)


def login(url: str, username: str) -> str:
    answer = graphql(
        url,
        "mutation($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token } }",
        {"u": username, "p": PASSWORD},
    )
    if answer.get("errors"):
        raise SystemExit(f"login as {username} failed: {answer['errors']}")
    return answer["data"]["tokenAuth"]["token"]


ID_QUERIES = {
    "staff": "{ patients(first: 10) { edges { node { id } } } doctors(first: 10) { edges { node { id } } }"
    " assignments(first: 10) { edges { node { id } } } }",
    "patient": "{ myHealthRecord { id } }",
    "doctor": "{ patients(first: 10) { edges { node { healthRecord { id annotations(first: 10)"
    " { edges { node { id } } } } } } } }",
}


def global_ids(value) -> set[str]:
    if isinstance(value, dict):
        return {found for key, item in value.items() for found in global_ids(item)} | (
            {value["id"]} if isinstance(value.get("id"), str) else set()
        )
    if isinstance(value, list):
        return {found for item in value for found in global_ids(item)}
    return set()


def write_config(path: Path, url: str, tokens: dict[str, str]) -> None:
    """Real page sizes and IDs of the demo data: random ones would rarely get past validation."""
    ids = set()
    for role, query in ID_QUERIES.items():
        request = urllib.request.Request(
            url, data=json.dumps({"query": query}).encode(), method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {tokens[role]}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
            ids |= global_ids(json.load(response).get("data"))
    id_values = ", ".join(json.dumps(value) for value in sorted(ids))
    bindings = ["*.*.id", "*.*.input.id", "*.*.input.recordId", "*.*.input.doctorId", "*.*.input.patientId"]
    path.write_text(
        "[dictionaries.page-sizes]\nvalues = [0, 1, 2, 10, 100]\n\n"
        f"[dictionaries.ids]\nvalues = [{id_values}]\n\n"
        "[parameters]\n"
        '"*.*.first" = { dictionary = "page-sizes", probability = 0.8 }\n'
        + "".join(f'"{binding}" = {{ dictionary = "ids", probability = 0.8 }}\n' for binding in bindings)
    )


# Operations that end the caller's own session: fuzzed last, so the rest run signed in.
SESSION_ENDING = r"\.(revokeAllSessions|changePassword)$"


def fuzz(url: str, role: str, token: str, args, env: dict[str, str], workdir: Path, *, session_ending: bool) -> int:
    command = [
        str(VENV_BIN / "st"), "--config-file", str(workdir / "schemathesis.toml"), "run", str(ROOT / "schema.graphql"),
        "--url", url,
        "--checks", "no_server_error_and_no_leak",
        "--max-examples", str(args.max_examples),
        "--phases", "examples,coverage,fuzzing",
        "--workers", "1",
        "--request-timeout", "30",
        "--generation-database", "none",
        "--no-color",
        "--report", "junit", "--report-junit-path", str(workdir / f"{role}.xml"),
    ]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    command += ["--header", f"Authorization: Bearer {token}"]
    command += ["--include-name-regex" if session_ending else "--exclude-name-regex", SESSION_ENDING]
    print(f"== schemathesis as {role}{' (operations that end the session)' if session_ending else ''}", flush=True)
    # In the work directory: schemathesis keeps a `.schemathesis/` cache where it runs.
    return subprocess.run(command, env={**env, "SCHEMATHESIS_HOOKS": "tests.security.fuzz_checks"}, cwd=workdir,
                          check=False).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("FUZZ_MAX_EXAMPLES", "25")))
    # A fixed seed keeps CI reproducible; FUZZ_SEED=random (or any number) to explore further.
    seed = os.environ.get("FUZZ_SEED", "20261127")
    parser.add_argument("--seed", type=int, default=None if seed == "random" else int(seed))
    args = parser.parse_args()

    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="clinic-fuzz-"))
    env = server_env(workdir)
    migrate_and_seed(env, password=PASSWORD)
    server = Server("gunicorn", None, env, workdir / "gunicorn.log")
    failures = []
    try:
        server.wait_healthy()
        url = f"{server.base_url}/graphql/"
        write_config(workdir / "schemathesis.toml", url, {role: login(url, name) for role, name in ROLES.items()})
        for session_ending in (False, True):
            for role, username in ROLES.items():
                # A fresh token per run: access tokens live 5 minutes.
                token = login(url, username)
                if fuzz(url, role, token, args, env, workdir, session_ending=session_ending) != 0:
                    failures.append(role)
    finally:
        server.stop()
    elapsed = time.monotonic() - started
    if failures:
        print(f"!! schemathesis failed as {', '.join(sorted(set(failures)))}; server log: {workdir / 'gunicorn.log'}")
        print((workdir / "gunicorn.log").read_text()[-5000:])
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    print(f"schemathesis: no 5xx, INTERNAL or leak as {', '.join(ROLES)} in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
