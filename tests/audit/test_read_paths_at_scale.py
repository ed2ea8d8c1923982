"""The access log and the auditors' filters page down their indexes (EXPLAIN on PostgreSQL), and
totalCount is exact up to AUDIT_TOTAL_COUNT_CAP, beyond it the planner's estimate, marked so."""

import datetime
import re

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import Action, AuditEvent
from audit.selectors import audit_events_of_patient_user, audit_events_search
from audit.services import AuditDraft, audit_events_append
from tests import factories
from tests.audit.test_audit_events import auditor  # noqa: F401 - fixture
from tests.conftest import global_id, requires_postgres

PAGE = 20
# The index names, or on a partitioned trail (migration 0012) each month's copy of them.
INDEXES = {
    "patient": r"audit_patient_sequence_idx|patient_id_sequence_idx",
    "actor": r"audit_actor_created_idx|actor_id_created_at_idx",
    "action_and_week": r"audit_action_created_idx|action_created_at_idx",
    "week": r"audit_auditevent_created_at|_created_at_idx",
}


def append(actor, drafts: list[AuditDraft]) -> None:
    for start in range(0, len(drafts), 500):
        audit_events_append(actor=actor, drafts=drafts[start : start + 500])


@pytest.fixture
def busy_trail(db):
    """One patient with 1,000 events among 6,000 of 40 other patients by 3 busy doctors; a fourth
    doctor with 50, and 50 record updates: the selective filters an auditor pages through."""
    doctors = [factories.make_doctor() for _ in range(4)]
    watched = factories.make_patient()
    others = [factories.make_patient() for _ in range(40)]
    actions = [Action.RECORD_READ, Action.ANNOTATION_READ, Action.DEMOGRAPHICS_READ]
    append(doctors[0].user, [AuditDraft(action=Action.RECORD_READ, patient_id=watched.pk) for _ in range(1000)])
    for doctor in doctors[:3]:
        append(doctor.user, [AuditDraft(action=actions[k % 3], patient_id=others[k % 40].pk) for k in range(2000)])
    append(doctors[3].user, [AuditDraft(action=Action.RECORD_READ, patient_id=others[k].pk) for k in range(40)])
    append(doctors[0].user, [AuditDraft(action=Action.RECORD_UPDATE, patient_id=others[k % 40].pk) for k in range(50)])
    append(None, [AuditDraft(action=Action.LOGIN_FAILURE) for _ in range(300)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditevent")
    return watched, doctors


def plan(queryset) -> str:
    return queryset[:PAGE].explain()


@requires_postgres
def test_the_access_log_pages_down_the_patient_index(busy_trail):
    watched, _ = busy_trail
    # when the patient's first page is planned
    explained = plan(audit_events_of_patient_user(user=watched.user))
    # then it is an index scan on (patient, sequence), backwards, with no sort and no join
    assert re.search(INDEXES["patient"], explained)
    assert "Backward" in explained
    # (a Merge Append of the months' backward scans names a "Sort Key" but sorts nothing)
    assert not re.search(r"Sort  \(|Join|Seq Scan on audit_auditevent", explained)


@requires_postgres
@pytest.mark.parametrize("filters", ["patient", "actor", "action_and_week", "week"])
def test_each_auditor_filter_uses_its_index(busy_trail, filters):
    watched, doctors = busy_trail
    week_ago = timezone.now() - datetime.timedelta(days=7)
    arguments = {
        "patient": {"patient_id": watched.pk},
        "actor": {"actor_id": doctors[3].user.pk},
        "action_and_week": {"action": Action.RECORD_UPDATE, "since": week_ago},
        "week": {"since": week_ago},
    }[filters]
    explained = plan(audit_events_search(**arguments))
    assert re.search(INDEXES[filters], explained)
    assert "Seq Scan on audit_auditevent" not in explained


@pytest.mark.parametrize("cap", [10_000, 500])
def test_total_count_is_exact_up_to_the_cap_then_estimated_and_marked(busy_trail, gql, auditor, settings, cap):  # noqa: F811
    _, doctors = busy_trail
    settings.AUDIT_TOTAL_COUNT_CAP = cap
    matching = AuditEvent.objects.filter(actor=doctors[2].user).count()  # 2000
    # when an auditor asks for a page of one doctor's events with the total
    result = gql.execute(
        "query($a: ID) { auditEvents(first: 5, actorId: $a) {"
        " totalCount totalCountIsEstimate edges { node { id } } } }",
        {"a": global_id("User", doctors[2].user.pk)},
        user=auditor,
    )
    page = result.data["auditEvents"]
    assert len(page["edges"]) == 5
    if cap > matching or connection.vendor != "postgresql":
        # then below the cap (and on SQLite always) it is the exact count, unmarked
        assert (page["totalCount"], page["totalCountIsEstimate"]) == (matching, False)
    else:
        # and above it, PostgreSQL's estimate: more than the cap, the right order of magnitude, marked
        assert page["totalCountIsEstimate"] is True
        assert cap < page["totalCount"] < 10 * matching
