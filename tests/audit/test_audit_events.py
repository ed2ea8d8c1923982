"""The whole trail, for staff holding audit.view_auditevent, and nobody else."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from audit.models import AuditEvent
from tests import factories
from tests.conftest import global_id

AUDIT_EVENTS = """
query($patientId: ID, $actorId: ID, $action: AuditAction, $since: DateTime, $until: DateTime) {
  auditEvents(first: 100, patientId: $patientId, actorId: $actorId, action: $action, since: $since, until: $until) {
    totalCount
    edges { node { sequence action outcome fields objectType objectId requestId userAgent ip
                   actor { username } patient { fullName } } }
  }
}
"""


@pytest.fixture
def auditor(db):
    user = factories.make_staff(username="auditor", permissions=())
    user.user_permissions.add(Permission.objects.get(content_type__app_label="audit", codename="view_auditevent"))
    return user


def events(result):
    return [edge["node"] for edge in result.data["auditEvents"]["edges"]]


def test_an_auditor_reads_the_trail_filtered_by_patient_and_action(world, gql, auditor):
    # given dr. grey read alice's record from some app
    gql.execute(
        "{ patients(first: 10) { edges { node { healthRecord { allergies } } } } }",
        user=world.grey.user,
        headers={"HTTP_USER_AGENT": "WardTablet/2.1"},
    )
    # when the auditor asks for reads of alice's data
    result = gql.execute(
        AUDIT_EVENTS, {"patientId": global_id("Patient", world.alice.pk), "action": "RECORD_READ"}, user=auditor
    )
    # then exactly that read, with who, where from and what
    assert result.errors == []
    [event] = events(result)
    assert event["actor"] == {"username": "dr.grey"}
    assert event["patient"] == {"fullName": world.alice.full_name}
    assert (event["fields"], event["userAgent"], event["ip"]) == (["allergies"], "WardTablet/2.1", "127.0.0.1")
    assert event["objectId"] == str(world.alice.health_record.pk)


def test_an_auditor_filters_by_actor_and_time(world, gql, auditor):
    # given the trail so far (registrations, assignments by the coordinator)
    # when the auditor asks for the coordinator's actions, then for a window in the future
    mine = gql.execute(AUDIT_EVENTS, {"actorId": global_id("User", world.coordinator.pk)}, user=auditor)
    later = (timezone.now() + datetime.timedelta(hours=1)).isoformat()
    future = gql.execute(AUDIT_EVENTS, {"since": later}, user=auditor)
    # (the auditor's own reads of patients' names are on the trail by now too)
    everything = AuditEvent.objects.count()
    past = gql.execute(AUDIT_EVENTS, {"until": later}, user=auditor)
    # then only his (newest first), none, and everything
    coordinator_events = events(mine)
    assert {event["actor"]["username"] for event in coordinator_events} == {"coordinator"}
    assert [event["action"] for event in coordinator_events] == [
        "ASSIGNMENT_END",
        "ASSIGNMENT_CREATE",
        "ASSIGNMENT_CREATE",
    ]
    assert events(future) == []
    assert past.data["auditEvents"]["totalCount"] == everything


@pytest.mark.parametrize("caller", ["alice", "grey", "coordinator", "staff_without_perms"])
def test_nobody_else_may_read_the_trail(world, gql, caller):
    # given a patient, a doctor, staff with assignment rights and staff without any
    user = getattr(world, caller)
    user = getattr(user, "user", user)
    # when they ask for the trail
    result = gql.execute(AUDIT_EVENTS, user=user)
    # then FORBIDDEN, and nothing of it
    assert result.code == "FORBIDDEN"
    assert result.data is None


def test_a_doctor_holding_the_permission_is_still_refused(world, gql):
    # given a doctor who somehow holds audit.view_auditevent
    permission = Permission.objects.get(content_type__app_label="audit", codename="view_auditevent")
    world.grey.user.user_permissions.add(permission)
    # when he asks for the trail
    result = gql.execute(AUDIT_EVENTS, user=world.grey.user)
    # then FORBIDDEN: the trail is for staff auditors
    assert result.code == "FORBIDDEN"


def test_anonymous_callers_must_sign_in(db, gql):
    assert gql.execute(AUDIT_EVENTS).code == "UNAUTHENTICATED"


def test_bad_filter_ids_are_bad_input(world, gql, auditor):
    # when the auditor passes a doctor's id as patientId
    result = gql.execute(AUDIT_EVENTS, {"patientId": global_id("Doctor", world.grey.pk)}, user=auditor)
    # then BAD_USER_INPUT naming the argument
    assert result.code == "BAD_USER_INPUT"
    assert "patientId" in result.errors[0]["extensions"]["fields"]
