"""The one launcher (ops/launch.py): a server whose port was taken after it was chosen moves to another."""

import socket

import pytest

from tests.ops.servers import GUNICORN, RUNSERVER, Server, development_env, free_port, production_env, sqlite_url


@pytest.fixture
def taken_port():
    """A port another process bound between free_port and the server's own bind (here: this one)."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        yield squatter.getsockname()[1]


@pytest.mark.parametrize("kind", [GUNICORN, RUNSERVER])
def test_a_server_whose_port_is_taken_starts_again_on_a_free_one(kind, taken_port, tmp_path):
    # given a server told to use a port something else already listens on
    database = {"DATABASE_URL": sqlite_url(tmp_path / "empty.sqlite3")}  # /healthz reads no table
    env = production_env(**database, STATIC_ROOT=str(tmp_path / "static"), WEB_CONCURRENCY="1") \
        if kind == GUNICORN else development_env(**database)
    server = Server("moved", taken_port, env, tmp_path / "server.log", kind=kind)
    try:
        # when we wait for it
        server.wait_healthy()

        # then it answers on another port, after saying in its log that the first was in use
        assert server.port != taken_port
        assert server.get("/healthz")[0] == 200
        assert server.port_taken() is False
        assert "in use" in server.log()
    finally:
        server.stop()


def test_free_port_skips_the_ports_it_is_told_are_taken():
    # given the port the OS would hand out, marked as taken
    first = free_port()

    # when we ask again, many times, with it taken
    others = {free_port({first}) for _ in range(20)}

    # then it is never given, and the ports are real, bindable ones
    assert others and all(1024 <= port <= 65535 for port in others)
    assert first not in others
    for port in others:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))
