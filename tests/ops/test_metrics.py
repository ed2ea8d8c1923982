"""/metrics: Prometheus text for a holder of METRICS_TOKEN only; the outbox, latency, lockouts, audit."""

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from care.models import Notification, NotificationStatus
from ops import metrics as instruments
from tests import factories

TOKEN = "metrics-test-token-0123456789abcdef"


@pytest.fixture
def metrics_token(monkeypatch) -> str:
    monkeypatch.setenv("METRICS_TOKEN", TOKEN)
    return TOKEN


def scrape(client) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics as {(name, sorted labels): value}."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert response["Cache-Control"] == "no-store"
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def sample(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_without_metrics_token_the_endpoint_does_not_exist(client, db, monkeypatch):
    # given no METRICS_TOKEN configured
    monkeypatch.delenv("METRICS_TOKEN", raising=False)
    # when, even with a bearer token
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything")
    # then
    assert response.status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer ", f"bearer{TOKEN}"],
)
def test_a_scrape_without_the_right_bearer_token_is_refused(client, db, metrics_token, authorization):
    # when
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    response = client.get("/metrics", **headers)
    # then nothing of the metrics is shown
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"clinic_" not in response.content


def test_metrics_accepts_only_get(client, db, metrics_token):
    # when
    response = client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    # then
    assert response.status_code == 405


def test_the_outbox_gauges_are_read_from_the_database_at_scrape_time(
    client, world, metrics_token, django_assert_num_queries
):
    # given (the world's assignments queued six mails) one row failed, one retrying later,
    # and the oldest due one written ten minutes ago
    rows = list(Notification.objects.order_by("created_at"))
    assert len(rows) == 6
    now = timezone.now()
    Notification.objects.filter(pk=rows[0].pk).update(status=NotificationStatus.FAILED, next_attempt_at=None)
    Notification.objects.filter(pk=rows[1].pk).update(next_attempt_at=now + timedelta(minutes=5))
    Notification.objects.filter(pk=rows[2].pk).update(created_at=now - timedelta(minutes=10))
    # when (one aggregate query)
    with django_assert_num_queries(1):
        samples = scrape(client)
    # then
    assert sample(samples, "clinic_outbox_notifications", state="due") == 4
    assert sample(samples, "clinic_outbox_notifications", state="scheduled") == 1
    assert sample(samples, "clinic_outbox_notifications", state="failed") == 1
    assert 600 <= sample(samples, "clinic_outbox_oldest_due_age_seconds") < 3600
    # when every row is sent
    Notification.objects.update(status=NotificationStatus.SENT, next_attempt_at=None)
    samples = scrape(client)
    # then
    assert sample(samples, "clinic_outbox_notifications", state="due") == 0
    assert sample(samples, "clinic_outbox_oldest_due_age_seconds") == 0


def test_request_latency_is_observed_by_graphql_operation(gql, client, world, metrics_token):
    # given
    before = scrape(client)
    # when two named queries, a named mutation and an unnamed query are answered
    for _ in range(2):
        assert gql.execute("query WhoAmI { me { username } }", user=world.grey.user).errors == []
    gql.execute("mutation SignIn { tokenAuth(username: \"nobody\", password: \"wrong\") { token } }")
    assert gql.execute("{ me { username } }", user=world.grey.user).errors == []
    after = scrape(client)

    # then each landed in its own series of the histogram
    def added(operation: str, kind: str) -> float:
        name = "clinic_request_duration_seconds_count"
        labels = {"operation": operation, "type": kind}
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert added("WhoAmI", "query") == 2
    assert added("SignIn", "mutation") == 1
    assert added("(unnamed)", "query") == 1
    sum_name = "clinic_request_duration_seconds_sum"
    assert sample(after, sum_name, operation="WhoAmI", type="query") > sample(
        before, sum_name, operation="WhoAmI", type="query"
    )


def test_operation_names_are_bounded_so_clients_cannot_grow_the_scrape(gql, client, db, metrics_token, monkeypatch):
    # given room for two operation names in this process
    monkeypatch.setattr(instruments, "_operation_names", set())
    monkeypatch.setattr(instruments, "MAX_OPERATION_NAMES", 2)
    # when three differently named queries arrive
    for name in ("First", "Second", "Third"):
        gql.execute(f"query {name} {{ __typename }}")
    samples = scrape(client)
    # then the third is counted, under "(other)"
    labels = {dict(key[1]).get("operation") for key in samples if key[0] == "clinic_request_duration_seconds_count"}
    assert {"First", "Second", "(other)"} <= labels
    assert "Third" not in labels


def test_login_refusals_for_rate_limiting_are_counted(gql, client, db, metrics_token):
    # given
    factories.make_doctor(username="dr.target")
    before = sample(scrape(client), "clinic_login_rate_limited_total")
    # when wrong passwords are tried until the lockout answers, and twice more
    login = 'mutation { tokenAuth(username: "dr.target", password: "wrong") { token } }'
    codes = [gql.execute(login).code for _ in range(7)]
    # then every RATE_LIMITED answer was counted
    assert "RATE_LIMITED" in codes
    after = sample(scrape(client), "clinic_login_rate_limited_total")
    assert after - before == codes.count("RATE_LIMITED")


def test_audit_appends_are_timed(gql, client, world, metrics_token):
    # given
    name = "clinic_audit_append_duration_seconds_count"
    before = sample(scrape(client), name)
    # when alice reads her record (an audited read of PHI)
    result = gql.execute("query MyRecord { myHealthRecord { allergies } }", user=world.alice.user)
    # then its audit append was observed
    assert result.errors == []
    assert sample(scrape(client), name) > before


def test_metrics_carry_no_personal_data(gql, client, world, metrics_token):
    # given traffic of several users
    before = sample(scrape(client), "clinic_audit_append_duration_seconds_count")
    read = gql.execute("query MyRecord { myHealthRecord { allergies } }", user=world.alice.user)
    # when
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    body = response.content
    # then the scrape counts that traffic (so it is not simply empty) ...
    assert read.errors == []
    assert response.status_code == 200
    assert sample(scrape(client), "clinic_audit_append_duration_seconds_count") > before
    # ... in names, counts and durations only
    patient = world.alice
    for secret in ("alice", "grey", "@clinic.example", patient.medical_record_number, patient.user.last_name):
        assert secret.encode() not in body
