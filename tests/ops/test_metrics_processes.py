"""/metrics of a real gunicorn instance counts the requests of every worker process, not just its own."""

import threading
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.notifications.processes import server_database, start_server
from tests.ops.servers import production_env

TOKEN = "metrics-process-test-token-0123456789"
CLIENTS, REQUESTS_EACH = 8, 5


def scrape(base_url: str) -> dict[tuple[str, tuple], float]:
    request = urllib.request.Request(f"{base_url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.mark.django_db(transaction=True)
def test_a_scrape_merges_the_samples_of_all_gunicorn_workers(tmp_path):
    # given an instance with two sync worker processes
    url, _outbox = server_database(tmp_path)
    env = production_env(
        DATABASE_URL=url, STATIC_ROOT=str(tmp_path / "static"), WEB_CONCURRENCY="2", GUNICORN_THREADS="1",
        METRICS_TOKEN=TOKEN,
    )
    server = start_server("api", env, tmp_path, set())
    try:
        # when clients released together send named queries (so both processes answer some)
        barrier = threading.Barrier(CLIENTS)
        failures = []

        def client():
            try:
                barrier.wait(timeout=30)
                for _ in range(REQUESTS_EACH):
                    server.graphql("query Ping { __typename }")
            except Exception as error:  # noqa: BLE001 - reported below
                failures.append(error)

        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert failures == []
        # then whichever process answers the scrape counts all of them, twice in a row
        key = ("clinic_request_duration_seconds_count", (("operation", "Ping"), ("type", "query")))
        assert [scrape(server.base_url).get(key) for _ in range(2)] == [CLIENTS * REQUESTS_EACH] * 2
    finally:
        server.stop()
