"""Persisted documents are shared by every instance, and registering one races safely.

Two gunicorn instances (two workers each) on one database: eight clients, released together by a
barrier, send the same new document with its hash, half to each instance; every one gets its
answer, the table holds one row, and then either instance runs the document by hash alone (its
worker processes never saw the text: it comes from the database).
"""

import hashlib
import json
import urllib.error
import urllib.request

import pytest

from tests.ops.servers import Response, Server, free_port, production_env
from tests.ops.sites import LOGIN, PASSWORD, fresh_site, pg_available, race

CLIENTS = 8
ME = "query MeRaced { me { username role } }"
HASH = hashlib.sha256(ME.encode()).hexdigest()
KINDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not pg_available(), reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI runs the suite there too)"
        ),
    ),
]


def post(server: Server, payload: dict, token: str | None = None) -> Response:
    request = urllib.request.Request(
        f"{server.base_url}/graphql/",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Response(response.status, json.loads(response.read()), dict(response.headers))
    except urllib.error.HTTPError as error:
        return Response(error.code, json.loads(error.read() or b"{}"), dict(error.headers))


def persisted(sha: str, **payload) -> dict:
    return {**payload, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}}


@pytest.mark.parametrize("kind", KINDS)
def test_instances_register_one_document_concurrently_and_each_runs_it_by_hash(kind, tmp_path):
    with fresh_site(kind, tmp_path, WEB_CONCURRENCY="2") as site:
        env = production_env(DATABASE_URL=site.url, WEB_CONCURRENCY="2")
        other = Server("other", free_port(set()), env, tmp_path / "other.log")
        try:
            other.wait_healthy()
            # given dr. grey signed in, and a document neither instance has seen
            login = post(site.server, {"query": LOGIN, "variables": {"u": "dr.grey", "p": PASSWORD}})
            token = login.data["tokenAuth"]["token"]
            assert post(other, persisted(HASH), token).codes == ["PERSISTED_QUERY_NOT_FOUND"]
            # when eight clients send it with its hash at once, half to each instance
            servers = [site.server, other] * (CLIENTS // 2)
            answers = race([lambda s=server: post(s, persisted(HASH, query=ME), token) for server in servers])
            # then every client got the answer, and the document is stored once
            assert [answer.data for answer in answers] == [{"me": {"username": "dr.grey", "role": "DOCTOR"}}] * CLIENTS
            assert site.rows("SELECT COUNT(*) FROM persisted_persisteddocument WHERE sha256 = %s", HASH) == [(1,)]
            # and both instances run it by hash alone
            for server in (site.server, other):
                assert post(server, persisted(HASH), token).data == {"me": {"username": "dr.grey", "role": "DOCTOR"}}
        finally:
            other.stop()
