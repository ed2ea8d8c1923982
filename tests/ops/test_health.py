"""/healthz and /readyz: JSON, no authentication, no PHI, 200 or 503."""

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

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


def test_readyz_is_ready_when_database_migrations_and_outbox_are_fine(
    client, world, monkeypatch, django_assert_num_queries
):
    # given a few pending notifications from the world's assignments, below the threshold
    monkeypatch.setenv("READYZ_OUTBOX_BACKLOG_MAX", "100")
    due = Notification.objects.filter(status=NotificationStatus.PENDING).count()
    assert due >= 1
    # when: SELECT 1, the migration table (does it exist, its rows), the outbox count
    with django_assert_num_queries(4):
        response = client.get("/readyz/")
    # then
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": {"ok": True},
            "migrations": {"ok": True, "pending": 0},
            "outbox": {"ok": True, "due": due, "max": 100},
        },
    }


def test_readyz_caches_complete_migrations(client, db, django_assert_num_queries):
    # given a first probe that found the migrations complete
    assert client.get("/readyz").status_code == 200
    # when: SELECT 1 and the outbox count only
    with django_assert_num_queries(2):
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


def test_readyz_is_unavailable_when_the_outbox_backlog_reaches_the_threshold(client, world, monkeypatch):
    # given more due notifications than the configured threshold
    due = Notification.objects.filter(status=NotificationStatus.PENDING).count()
    monkeypatch.setenv("READYZ_OUTBOX_BACKLOG_MAX", str(due))
    # when
    response = client.get("/readyz")
    # then
    assert response.status_code == 503
    assert response.json()["checks"]["outbox"] == {"ok": False, "due": due, "max": due}
    assert response.json()["checks"]["database"] == {"ok": True}


def test_readyz_does_not_count_notifications_not_yet_due(client, world, monkeypatch):
    # given every pending notification waiting for a later retry
    from datetime import timedelta

    from django.utils import timezone

    Notification.objects.update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    monkeypatch.setenv("READYZ_OUTBOX_BACKLOG_MAX", "1")
    # when
    response = client.get("/readyz")
    # then
    assert response.status_code == 200
    assert response.json()["checks"]["outbox"] == {"ok": True, "due": 0, "max": 1}


def test_health_answers_carry_no_personal_data(client, world):
    # when
    bodies = client.get("/healthz").content + client.get("/readyz").content
    # then: only check names, booleans and counts
    for secret in ("alice", "bob", "grey", "@clinic.example", str(world.alice.pk)):
        assert secret.encode() not in bodies
