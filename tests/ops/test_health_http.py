"""Health probes of a real gunicorn instance whose database is down."""

import json

import pytest

from tests.ops.servers import Server, free_port, production_env


@pytest.fixture
def server_without_database(tmp_path):
    # given an instance whose PostgreSQL refuses connections (nothing listens on port 1)
    env = production_env(
        DATABASE_URL="postgres://postgres@127.0.0.1:1/clinic",
        STATIC_ROOT=str(tmp_path / "static"),
        WEB_CONCURRENCY="1",
    )
    server = Server("down", free_port(set()), env, tmp_path / "server.log")
    try:
        server.wait_healthy()
        yield server
    finally:
        server.stop()


def test_the_process_is_alive_but_not_ready_without_its_database(server_without_database):
    # when
    alive = server_without_database.get("/healthz")
    ready = server_without_database.get("/readyz")
    # then
    assert alive[0] == 200
    assert json.loads(alive[1]) == {"status": "ok"}
    assert ready[0] == 503
    assert json.loads(ready[1]) == {"status": "unavailable", "checks": {"database": {"ok": False}}}
    assert ready[2]["Content-Type"] == "application/json"
