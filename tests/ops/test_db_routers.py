"""The read-replica router: only the doctor directory is read from the replica."""

import warnings

import pytest
from django.apps import apps
from django.db import transaction

from clinic.db_routers import ReadReplicaRouter

PRIMARY_ONLY = [
    "users.User",  # authentication: a password change or deactivation must count at once
    "users.Patient",
    "records.HealthRecord",
    "records.Annotation",
    "records.HealthRecordRevision",
    "records.HealthRecordUserObjectPermission",
    "care.Assignment",
    "care.Notification",
    "audit.AuditEvent",
    "refresh_token.RefreshToken",
]


@pytest.fixture
def with_replica(settings):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Overriding setting DATABASES": only the router reads it here
        settings.DATABASES = {**settings.DATABASES, "replica": {**settings.DATABASES["default"]}}
    return ReadReplicaRouter()


def test_doctor_directory_reads_go_to_the_replica_outside_transactions(with_replica):
    # when
    alias = with_replica.db_for_read(apps.get_model("users.Doctor"))
    # then
    assert alias == "replica"


@pytest.mark.parametrize("label", PRIMARY_ONLY)
def test_everything_else_is_read_from_the_primary(with_replica, label):
    # when
    alias = with_replica.db_for_read(apps.get_model(label))
    # then
    assert alias == "default"


def test_reads_inside_a_transaction_see_its_writes_on_the_primary(with_replica, transactional_db):
    # when
    with transaction.atomic():
        alias = with_replica.db_for_read(apps.get_model("users.Doctor"))
    # then
    assert alias == "default"


def test_without_a_replica_every_read_goes_to_the_primary():
    # given no DATABASE_REPLICA_URL (the test settings)
    router = ReadReplicaRouter()
    # when
    alias = router.db_for_read(apps.get_model("users.Doctor"))
    # then
    assert alias == "default"


@pytest.mark.parametrize("label", ["users.Doctor", "users.User", "records.Annotation"])
def test_writes_always_go_to_the_primary(with_replica, label):
    assert with_replica.db_for_write(apps.get_model(label)) == "default"


def test_only_the_primary_is_migrated(with_replica):
    assert with_replica.allow_migrate("default", "users") is True
    assert with_replica.allow_migrate("replica", "users") is False
