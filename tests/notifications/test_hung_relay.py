"""A mail relay that accepts connections and never answers costs the API nothing.

Real processes: gunicorn serving the API and an outbox worker, both pointed at a relay that
accepts TCP connections and then stays silent (before, assignDoctor waited EMAIL_TIMEOUT on it
in the request, and with the sync workers busy a plain read waited behind it).
"""

import statistics
import time

import pytest

from tests.notifications.processes import (
    HungRelay,
    Worker,
    assign_everyone,
    mail_env,
    production_env,
    seed_and_login,
    server_database,
    start_server,
)
from tests.ops.servers import free_port

READ = "query Directory { doctors(first: 10) { edges { node { fullName } } } }"


@pytest.mark.django_db(transaction=True)
def test_a_hung_relay_is_never_contacted_by_the_api_only_by_the_worker(tmp_path):
    # given an API instance (two sync workers) and a relay that accepts connections and never answers
    url, outbox = server_database(tmp_path)
    relay = HungRelay(free_port(set()))
    env = production_env(
        DATABASE_URL=url,
        STATIC_ROOT=str(tmp_path / "static"),
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="1",
        **mail_env(relay.port, EMAIL_TIMEOUT="30"),
    )
    server = start_server("api", env, tmp_path, {relay.port})
    worker = None
    try:
        token = seed_and_login(server, env)
        queued_before = len(outbox.all())
        # when staff assign doctors to patients, and a plain read follows each time
        latencies = assign_everyone(server, token)
        reads = []
        for _ in range(10):
            started = time.perf_counter()
            assert server.graphql(READ, token=token).codes == []
            reads.append(time.perf_counter() - started)
        # then every request was answered, their mails queued, and the API never dialled the relay
        assert len(outbox.all()) - queued_before == 2 * (len(latencies) - 1)  # one pair already assigned
        assert relay.accepted == 0
        print(  # the numbers for the report (pytest -s); no timed assertion
            f"\nassignDoctor with a hung relay: {len(latencies)} requests, "
            f"median {statistics.median(latencies) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms; "
            f"reads: median {statistics.median(reads) * 1000:.1f} ms, max {max(reads) * 1000:.1f} ms"
        )
        # when the outbox worker runs
        worker = Worker("worker", env, tmp_path / "worker.log")
        # then it is the one that connects to the relay (and waits there, not the API)
        assert relay.wait_for_connection(), worker.log()
        assert worker.process.poll() is None
        started = time.perf_counter()
        assert server.graphql(READ, token=token).codes == []
        print(f"a read while the worker hangs on the relay: {(time.perf_counter() - started) * 1000:.1f} ms")
    finally:
        if worker is not None:
            worker.kill()  # it is stuck in an SMTP greeting that never comes
        server.stop()
        relay.close()
