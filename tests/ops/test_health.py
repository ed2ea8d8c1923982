"""/healthz and /readyz: JSON, no authentication, no PHI, 200 or 503."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from care.models import Notification, NotificationStatus
from ops import health


@pytest.fixture(autouse=True)
def fresh_migration_check(monkeypatch):
    # The "migrations complete" answer is cached per process; every test here asks afresh.
    monkeypatch.setattr(health, "_migrations_complete", False)


def test_healthz_answers_anyone_even_by_ip_without_credentials(client):
    # given a load balancer probing by an address that is not in ALLOWED_HOSTS
    # when
    response = client.get("/healthz", HTTP_HOST="10.1.2.3")
    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_healthz_accepts_only_get_and_head(client):
    # when
    response = client.post("/healthz")
    # then
    assert response.status_code == 405


def test_readyz_is_ready_when_the_database_answers_and_migrations_are_applied(client, db, django_assert_num_queries):
    # when: SELECT 1, the migration table (does it exist, its rows)
    with django_assert_num_queries(3):
        response = client.get("/readyz/")
    # then
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": {"ok": True}, "migrations": {"ok": True, "pending": 0}},
    }


def test_readyz_caches_complete_migrations(client, db, django_assert_num_queries):
    # given a first probe that found the migrations complete
    assert client.get("/readyz").status_code == 200
    # when: SELECT 1 only
    with django_assert_num_queries(1):
        response = client.get("/readyz")
    # then
    assert response.json()["checks"]["migrations"] == {"ok": True, "pending": 0}


def test_readyz_is_unavailable_while_migrations_are_pending(client, db):
    # given the latest migration of an app not applied (the row comes back with the rollback)
    [(app_label, name)] = MigrationLoader(connection).graph.leaf_nodes("care")
    MigrationRecorder(connection).record_unapplied(app_label, name)
    # when
    response = client.get("/readyz")
    # then
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["migrations"]["ok"] is False
    assert body["checks"]["migrations"]["pending"] >= 1


def test_readyz_stays_ready_however_large_the_mail_backlog(client, world):
    # given a mail outage: every notification due and unsent, many of them, some out of attempts
    long_ago = timezone.now() - timedelta(days=1)
    template = Notification.objects.first()
    Notification.objects.bulk_create(
        Notification(
            kind=template.kind, recipient=template.recipient, to_email=template.to_email, subject="s", body="b",
            next_attempt_at=long_ago, attempts=3, last_error="ConnectionRefusedError: [Errno 111]",
        )
        for _ in range(600)
    )
    Notification.objects.filter(pk=template.pk).update(status=NotificationStatus.FAILED, next_attempt_at=None)
    due = Notification.objects.filter(status=NotificationStatus.PENDING, next_attempt_at__lte=timezone.now())
    assert due.count() > 500
    # when
    response = client.get("/readyz")
    # then the instance stays in rotation: no request needs the mail relay (the backlog is a metric)
    assert response.status_code == 200
    assert set(response.json()["checks"]) == {"database", "migrations"}


def test_health_answers_carry_no_personal_data(client, world):
    # when
    alive, ready = client.get("/healthz"), client.get("/readyz")
    bodies = alive.content + ready.content
    # then both answered with their checks (not an error page that would be empty of data too) ...
    assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
    assert ready.status_code == 200
    assert set(ready.json()["checks"]) == {"database", "migrations"}
    # ... and carry only check names, booleans and counts
    for secret in ("alice", "bob", "grey", "@clinic.example", str(world.alice.pk)):
        assert secret.encode() not in bodies
