"""A real JavaScript client against a real server: Apollo Client 4 in Node (issue 15).

clients/js/scenarios.mjs drives clients/js/clinic-client.mjs (the set-up docs/clients.md shows)
against gunicorn on a fresh, seeded database, and prints what happened and every request body it
sent; the server's JSON request log says what the server answered. npm installs the locked
packages once into clients/js/node_modules (tests/clients/conftest.py); without node and npm
these tests skip.
"""

import json
import os
import subprocess
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.clients.conftest import JS_DIR, node_available
from tests.ops.servers import Server, free_port, production_env, run_manage
from tests.ops.sites import PASSWORD, fresh_site

pytestmark = pytest.mark.skipif(not node_available(), reason="needs node and npm on PATH (the JS client tests)")

MANIFEST = JS_DIR.parent / "trusted-documents.json"
# An access token that expired five minutes ago, minted by the server's own code for dr. grey.
MINT_EXPIRED_TOKEN = """
import time, time_machine
from users.models import User
from users.sessions import SESSION_ID_CLAIM, session_create
from users.token_library import get_token
with time_machine.travel(time.time() - 600, tick=False):
    user = User.objects.get(username="dr.grey")
    print(get_token(user, **{SESSION_ID_CLAIM: str(session_create(user=user).family_id)}))
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One seeded database and gunicorn for the module: migrating and seeding is most of the time.

    Only the APQ test registers documents (the other scenarios run without APQ or in trusted mode),
    so the tests do not depend on each other's order.
    """
    with fresh_site("sqlite", tmp_path_factory.mktemp("apollo")) as site:
        yield site


@contextmanager
def another_server(site, log_path, **env: str) -> Iterator[Server]:
    """A second gunicorn on the site's database, with other settings."""
    server = Server(log_path.stem, free_port(set()), production_env(DATABASE_URL=site.url, **env), log_path)
    try:
        server.wait_healthy()
        yield server
    finally:
        server.stop()


@pytest.fixture
def trusted_server(site, tmp_path):
    """TRUSTED_DOCUMENTS_ONLY=1 with the committed manifest."""
    with another_server(
        site, tmp_path / "trusted.log", TRUSTED_DOCUMENTS_ONLY="1", TRUSTED_DOCUMENTS_MANIFEST=str(MANIFEST)
    ) as server:
        yield server


def expired_token(site) -> str:
    return run_manage(production_env(DATABASE_URL=site.url), "shell", "-c", MINT_EXPIRED_TOKEN).stdout.split()[-1]


def scenario(server, name: str, **env: str) -> dict:
    completed = subprocess.run(
        ["node", "scenarios.mjs", name],
        cwd=JS_DIR,
        env={"PATH": os.environ["PATH"], "CLINIC_URL": f"{server.base_url}/graphql/", "CLINIC_PASSWORD": PASSWORD}
        | env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr + completed.stdout
    return json.loads(completed.stdout)


def request_log(server) -> list[dict]:
    """The server's JSON request log lines (ops.middleware.RequestLogMiddleware), in order."""
    lines = []
    for line in server.log().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("path", "").startswith("/graphql"):
            lines.append(entry)
    return lines


def answered(server, code: str) -> int:
    """How many answers of the server carried `code`, by its request log."""
    return sum(code in entry.get("graphql_error_codes", []) for entry in request_log(server))


def test_a_doctor_signs_in_and_reads_the_worklist_with_variables(site):
    # when the doctor's app signs in and asks who it is and for the worklist
    result = scenario(site.server, "doctor")
    # then it has its tokens, its user, and the page it asked for (variables applied)
    assert result["tokens"] == ["__typename", "refreshExpiresAt", "refreshToken", "token"]
    assert (result["me"]["username"], result["me"]["role"]) == ("dr.grey", "DOCTOR")
    assert [edge["node"]["fullName"] for edge in result["worklist"]["edges"]] == ["Alice Adams"]
    assert result["worklist"]["edges"][0]["node"]["healthRecord"]["id"]
    assert result["nobody"] == 0


def test_apq_falls_back_to_the_text_once_then_runs_by_hash(site):
    # given a first page load: every document is new to the server
    before = answered(site.server, "PERSISTED_QUERY_NOT_FOUND")
    first = scenario(site.server, "apq")
    after_first = answered(site.server, "PERSISTED_QUERY_NOT_FOUND")
    # when the app loads again (a new client: nothing remembered on its side)
    second = scenario(site.server, "apq")
    # then the first load sent each of its three documents as a hash, got NOT_FOUND, sent the text
    assert [("query" in body, body["operationName"]) for body in first["sent"]] == [
        (False, "Login"),
        (True, "Login"),
        (False, "Me"),
        (True, "Me"),
        (False, "Worklist"),
        (True, "Worklist"),
    ]
    assert after_first - before == 3
    # and the second load sent hashes only, each answered at once, with the same data
    assert [("query" in body, body["operationName"]) for body in second["sent"]] == [
        (False, "Login"),
        (False, "Me"),
        (False, "Worklist"),
    ]
    assert all(body["extensions"]["persistedQuery"]["version"] == 1 for body in second["sent"])
    assert answered(site.server, "PERSISTED_QUERY_NOT_FOUND") == after_first
    assert second["me"] == first["me"] and second["total"] == first["total"] == 1
    assert site.rows("SELECT COUNT(*) FROM persisted_persisteddocument") == [(3,)]


def test_trusted_documents_mode_runs_the_manifest_and_refuses_the_rest(site, trusted_server):
    # when the app runs the manifest's operations by hash, and one document that is not in it
    registered = site.rows("SELECT COUNT(*) FROM persisted_persisteddocument")
    result = scenario(trusted_server, "trusted")
    # then the manifest's operations ran on their first, hash-only request
    assert result["me"]["username"] == "dr.grey" and result["total"] == 1
    names = Counter((body["operationName"], "query" in body) for body in result["sent"])
    assert names[("Login", False)] == names[("Me", False)] == names[("Worklist", False)] == 1
    assert names[("Login", True)] == names[("Me", True)] == names[("Worklist", True)] == 0
    # and the other one was refused, by hash and again with its text (nothing is registered)
    assert names[("Other", False)] == names[("Other", True)] == 1
    assert result["other"]["codes"] == ["PERSISTED_QUERY_NOT_FOUND"]
    # and a client without APQ may send a manifest operation's text, but no other text
    assert result["plainMe"]["data"]["me"]["username"] == "dr.grey"
    assert result["plainOther"]["codes"] == ["PERSISTED_QUERY_NOT_FOUND"]
    assert site.rows("SELECT COUNT(*) FROM persisted_persisteddocument") == registered


def test_three_requests_with_an_expired_token_share_one_refresh(site):
    # given an access token of dr. grey's that expired five minutes ago
    expired = expired_token(site)
    # when the app sends three queries at once with it
    before = answered(site.server, "TOKEN_EXPIRED")
    result = scenario(site.server, "refresh", CLINIC_EXPIRED_TOKEN=expired)
    # then all three are answered, after one refresh (single flight), each retried once
    assert result["usernames"] == ["dr.grey"] and result["totals"] == [1, 1]
    assert result["refreshes"] == 1
    operations = Counter(body.get("operationName") for body in result["sent"])
    assert operations["Refresh"] == 1
    assert operations["Me"] == 2 and operations["Worklist"] == 4
    assert answered(site.server, "TOKEN_EXPIRED") - before == 3


def me_of(answers: list[dict]) -> list:
    """(username, role) of each Me answer, or its error codes."""
    return [
        (answer["data"]["me"]["username"], answer["data"]["me"]["role"]) if "data" in answer else answer["codes"]
        for answer in answers
    ]


def test_two_uncoordinated_tabs_refreshing_at_once_keep_the_session_within_the_grace_window(site, tmp_path):
    # given the server with a refresh grace window, and an expired access token
    with another_server(site, tmp_path / "grace.log", JWT_REFRESH_REUSE_GRACE_SECONDS="30") as server:
        # when two tabs that share neither lock nor channel refresh the same token at once
        result = scenario(server, "tabs", CLINIC_EXPIRED_TOKEN=expired_token(site))
    # then both got their answer, from the same new pair, and both keep working
    assert me_of(result["answers"]) == [("dr.grey", "DOCTOR")] * 2
    assert result["refreshes"] == [1, 1] and result["samePair"] is True
    assert me_of(result["after"]) == [("dr.grey", "DOCTOR")] * 2


def test_without_the_grace_window_the_second_tabs_refresh_ends_the_session(site):
    # given the default server (no grace window), and an expired access token
    # when two uncoordinated tabs refresh the same token at once
    result = scenario(site.server, "tabs", CLINIC_EXPIRED_TOKEN=expired_token(site))
    # then reuse detection ends the session: one tab's refresh is refused (the other tab's answer
    # depends on whether its retried query reached the server before the reuse did), and afterwards
    # neither works
    assert sorted("data" in answer for answer in result["answers"]) in ([False, True], [False, False])
    assert all("data" not in answer for answer in result["after"])
