"""The trail is N hash chains on PostgreSQL, one per shard of patients; SQLite keeps one chain."""

import uuid

import pytest
from django.db import connection

from audit.chain import NO_PATIENT_SHARD, shard_count, shard_for
from audit.models import Action, AuditChainHead, AuditEvent
from audit.selectors import audit_chain_verify
from audit.services import AuditDraft, audit_event_record, audit_events_append
from tests import factories
from tests.conftest import requires_postgres


def test_routing_is_a_fixed_function_of_the_patient():
    patients = [uuid.uuid4() for _ in range(400)]
    # the same patient always lands in the same shard, of those configured
    assert [shard_for(p, shards=16) for p in patients] == [shard_for(str(p), shards=16) for p in patients]
    assert {shard_for(p, shards=16) for p in patients} == set(range(16))  # 400 patients reach every shard
    # events about nobody go to the fixed shard; one shard means one chain
    assert shard_for(None, shards=16) == NO_PATIENT_SHARD == 0
    assert {shard_for(p, shards=1) for p in patients} == {0}


@requires_postgres
def test_each_patient_has_a_gapless_chain_of_their_own(db, settings):
    # given 16 shards and 12 patients
    settings.AUDIT_CHAIN_SHARDS = 16
    patients = [factories.make_patient() for _ in range(12)]
    doctor = factories.make_doctor()
    # when their reads are appended, several patients per statement, and a login about nobody
    for _ in range(3):
        audit_events_append(
            actor=doctor.user, drafts=[AuditDraft(action=Action.RECORD_READ, patient_id=p.pk) for p in patients]
        )
    login = audit_event_record(actor=doctor.user, action=Action.LOGIN_SUCCESS)
    # then every event of a patient is in that patient's shard, the login in shard 0
    for patient in patients:
        shards = set(AuditEvent.objects.filter(patient=patient).values_list("shard", flat=True))
        assert shards == {shard_for(patient.pk, shards=16)}
    assert login.shard == 0
    # and each shard used is numbered 1, 2, 3, … and linked, ending at its head row
    used = sorted(set(AuditEvent.objects.values_list("shard", flat=True)))
    assert len(used) > 2
    for shard in used:
        chain = list(AuditEvent.objects.filter(shard=shard).order_by("sequence"))
        assert [e.sequence for e in chain] == list(range(1, len(chain) + 1))
        assert [e.prev_hash for e in chain[1:]] == [e.hash for e in chain[:-1]]
        head = AuditChainHead.objects.get(shard=shard)
        assert (head.sequence, head.hash) == (chain[-1].sequence, chain[-1].hash)
    report = audit_chain_verify()
    assert report.broken is None
    assert report.checked == AuditEvent.objects.count()


def test_sqlite_keeps_one_chain(db, settings):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's single chain")
    settings.AUDIT_CHAIN_SHARDS = 16
    patients = [factories.make_patient() for _ in range(5)]
    assert shard_count(connection) == 1
    # then every event, whoever it is about, is in shard 0's one chain
    audit_events_append(actor=None, drafts=[AuditDraft(action=Action.RECORD_READ, patient_id=p.pk) for p in patients])
    chain = list(AuditEvent.objects.order_by("sequence"))
    assert {e.shard for e in chain} == {0}
    assert [e.sequence for e in chain] == list(range(1, len(chain) + 1))
    assert AuditChainHead.objects.get(shard=0).hash == chain[-1].hash
