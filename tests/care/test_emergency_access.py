"""requestEmergencyAccess, reviewEmergencyAccess, revokeEmergencyAccess (issue 18, DESIGN.md section 9).

A grant reads and annotates like an assignment until it ends; the end at EMERGENCY_ACCESS_MINUTES is
the access check's own (time is moved with time_machine and nothing else runs in between).
"""

import datetime

import pytest
import time_machine
from django.utils import timezone

from audit.models import Action, AuditEvent, Severity
from care.models import EmergencyAccess, Notification, NotificationKind
from records.models import Annotation, HealthRecordUserObjectPermission
from tests import factories
from tests.conftest import global_id
from users.models import LoginFailure

REQUEST = """
mutation ($input: RequestEmergencyAccessInput!) {
  requestEmergencyAccess(input: $input) { id active reason expiresAt endedAt patient { fullName } doctor { fullName } }
}
"""
REVIEW = """
mutation ($input: ReviewEmergencyAccessInput!) {
  reviewEmergencyAccess(input: $input) { id verdict reviewNote reviewedAt reviewer { fullName role } active }
}
"""
REVOKE = """
mutation ($input: RevokeEmergencyAccessInput!) {
  revokeEmergencyAccess(input: $input) { id active endedAt endedBy { fullName role } }
}
"""
LIST = """
query ($reviewed: Boolean) {
  emergencyAccesses(first: 50, reviewed: $reviewed) {
    totalCount
    edges { node { id active reason verdict doctor { fullName } patient { fullName }
      reviewer { fullName } endedBy { fullName } } }
  }
}
"""
READ_RECORD = "query ($id: ID!) { node(id: $id) { ... on HealthRecord { allergies } } }"
PATIENTS = """
{ patients(first: 10) { totalCount edges { node { fullName healthRecord { allergies
  annotations(first: 5) { edges { node { body } } } } } } } }
"""
ADD = "mutation ($input: AddAnnotationInput!) { addAnnotation(input: $input) { id } }"
ACCESS_LOG = "{ myAccessLog(first: 50) { edges { node { action emergency actor { fullName } } } } }"
REASON = "Unconscious in the ER at night, her doctor cannot be reached."
MINUTES = 60
T0 = datetime.datetime(2026, 3, 1, 2, 0, tzinfo=datetime.UTC)


@pytest.fixture
def reviewer(db):
    """Staff who oversee emergency access (care.view_ / care.change_emergencyaccess)."""
    return factories.make_staff(username="reviewer", permissions=("view_emergencyaccess", "change_emergencyaccess"))


def request_input(patient, *, reason=REASON, password=factories.PASSWORD, code=None) -> dict:
    data = {"patientId": global_id("Patient", patient.pk), "reason": reason, "password": password}
    if code is not None:
        data["code"] = code
    return {"input": data}


def break_glass(gql, doctor, patient, **kwargs):
    return gql.execute(REQUEST, request_input(patient, **kwargs), user=doctor.user)


def record_id(patient) -> str:
    return global_id("HealthRecord", patient.health_record.pk)


def can_read(gql, doctor, patient) -> bool:
    result = gql.execute(READ_RECORD, {"id": record_id(patient)}, user=doctor.user)
    return result.errors == [] and result.data["node"] is not None


# --- refusals ------------------------------------------------------------------------------------


def test_anonymous_patients_and_staff_cannot_break_the_glass(gql, world, reviewer):
    anonymous = gql.execute(REQUEST, request_input(world.bob))
    assert (anonymous.code, anonymous.data) == ("UNAUTHENTICATED", None)
    for user in (world.alice.user, world.coordinator, reviewer):
        result = gql.execute(REQUEST, request_input(world.bob), user=user)
        assert (result.code, result.data) == ("FORBIDDEN", None), user
    assert not EmergencyAccess.objects.exists()


def test_a_short_reason_is_refused_before_the_password_is_checked(gql, world):
    result = break_glass(gql, world.house, world.alice, reason="  emergency   ")
    assert result.code == "BAD_USER_INPUT"
    assert list(result.errors[0]["extensions"]["fields"]) == ["reason"]
    assert not EmergencyAccess.objects.exists()
    assert not LoginFailure.objects.exists()
    assert not can_read(gql, world.house, world.alice)


def test_a_wrong_or_missing_password_is_refused_and_counts_toward_the_lockout(gql, world):
    # when the password is wrong, then empty
    wrong = break_glass(gql, world.house, world.alice, password="not-my-password")
    empty = break_glass(gql, world.house, world.alice, password="")
    # then both are refused naming the password, nothing is granted, and both count as failed logins
    for result in (wrong, empty):
        assert (result.code, result.data) == ("BAD_USER_INPUT", None)
        assert list(result.errors[0]["extensions"]["fields"]) == ["password"]
    assert not EmergencyAccess.objects.exists()
    assert LoginFailure.objects.count() == 2
    assert not can_read(gql, world.house, world.alice)
    # and after five failures even the right password is refused (the same lockout as tokenAuth)
    for _ in range(3):
        break_glass(gql, world.house, world.alice, password="not-my-password")
    locked = break_glass(gql, world.house, world.alice)
    assert locked.code == "RATE_LIMITED"
    assert not EmergencyAccess.objects.exists()


def test_an_unknown_patient_is_not_found_after_the_step_up(gql, world):
    missing = {
        "input": {
            "patientId": global_id("Patient", "6a3f3d2e-0000-4000-8000-000000000000"),
            "reason": REASON,
            "password": factories.PASSWORD,
        }
    }
    assert gql.execute(REQUEST, missing, user=world.house.user).code == "NOT_FOUND"
    wrong_password = {"input": {**missing["input"], "password": "nope-nope-nope"}}
    assert gql.execute(REQUEST, wrong_password, user=world.house.user).code == "BAD_USER_INPUT"


def test_an_assigned_doctor_cannot_request_it(gql, world):
    result = break_glass(gql, world.grey, world.alice)
    assert (result.code, result.data) == ("CONFLICT", None)
    assert not EmergencyAccess.objects.exists()


# --- the grant -----------------------------------------------------------------------------------


def test_the_grant_reads_and_annotates_at_once_everywhere_and_ends_at_sixty_minutes(gql, world):
    with time_machine.travel(T0, tick=False) as clock:
        # given house has no access to alice's record
        assert not can_read(gql, world.house, world.alice)
        # when he breaks the glass
        result = break_glass(gql, world.house, world.alice)
        # then the grant answers, in force for 60 minutes
        assert result.errors == []
        grant = result.data["requestEmergencyAccess"]
        assert (grant["active"], grant["reason"], grant["endedAt"]) == (True, REASON, None)
        assert grant["patient"] == {"fullName": world.alice.user.full_name}
        assert datetime.datetime.fromisoformat(grant["expiresAt"]) == T0 + datetime.timedelta(minutes=MINUTES)
        # and he reads her record by node, in the patients list and its nested annotations, and annotates it
        assert can_read(gql, world.house, world.alice)
        patients = gql.execute(PATIENTS, user=world.house.user)
        assert patients.errors == []
        assert patients.data["patients"]["totalCount"] == 1
        assert patients.data["patients"]["edges"][0]["node"]["fullName"] == world.alice.user.full_name
        added = gql.execute(
            ADD, {"input": {"recordId": record_id(world.alice), "body": "Given 2 mg."}}, user=world.house.user
        )
        assert added.errors == []
        # when 59 minutes 59 seconds have passed: still in force
        clock.move_to(T0 + datetime.timedelta(minutes=MINUTES, seconds=-1))
        gql.tokens.clear()  # access tokens live 5 minutes: sign in again
        assert can_read(gql, world.house, world.alice)
        # when the 60th minute is over, with nothing run in between
        clock.move_to(T0 + datetime.timedelta(minutes=MINUTES))
        gql.tokens.clear()  # access tokens live 5 minutes: sign in again
        # then every path is closed, exactly as for a doctor never assigned
        read = gql.execute(READ_RECORD, {"id": record_id(world.alice)}, user=world.house.user)
        assert (read.codes, read.data) == (["NOT_FOUND"], {"node": None})
        assert gql.execute(PATIENTS, user=world.house.user).data == {"patients": {"totalCount": 0, "edges": []}}
        late = gql.execute(ADD, {"input": {"recordId": record_id(world.alice), "body": "Late."}}, user=world.house.user)
        assert late.code == "NOT_FOUND"
        assert Annotation.objects.filter(body="Late.").count() == 0
        # and the grant says it is over, though no row was changed
        assert EmergencyAccess.objects.get().ended_at is None
        node = gql.execute(REVOKE, {"input": {"id": grant["id"]}}, user=world.house.user)
        assert node.code == "CONFLICT"


def test_the_grant_is_audited_high_and_tells_the_patient_and_the_reviewers(gql, world, reviewer):
    # given a second reviewer and a staff member who does not review emergency access
    other_reviewer = factories.make_staff(permissions=("change_emergencyaccess",))
    before = Notification.objects.count()
    # when house breaks the glass
    grant_id = break_glass(gql, world.house, world.alice).data["requestEmergencyAccess"]["id"]
    grant = EmergencyAccess.objects.get()
    # then one HIGH audit event about alice, by house, marked emergency
    event = AuditEvent.objects.get(action=Action.EMERGENCY_ACCESS_GRANT)
    assert (event.actor_id, event.patient_id, event.object_id) == (world.house.user.pk, world.alice.pk, str(grant.pk))
    assert (event.severity, event.emergency) == (Severity.HIGH, True)
    # and the outbox holds a mail to alice naming the doctor, one to each reviewer naming nobody
    mails = Notification.objects.order_by("created_at", "id")[before:]
    by_kind = sorted((mail.kind, mail.to_email) for mail in mails)
    assert by_kind == sorted(
        [
            (NotificationKind.PATIENT_EMERGENCY_ACCESS, world.alice.user.email),
            (NotificationKind.STAFF_EMERGENCY_ACCESS, reviewer.email),
            (NotificationKind.STAFF_EMERGENCY_ACCESS, other_reviewer.email),
        ]
    )
    alice_mail = next(mail for mail in mails if mail.recipient_id == world.alice.user.pk)
    assert world.house.user.last_name in alice_mail.subject
    for mail in mails:
        if mail.kind == NotificationKind.STAFF_EMERGENCY_ACCESS:
            text = mail.subject + mail.body + mail.html_body
            assert world.alice.user.last_name not in text and world.alice.medical_record_number not in text
            assert REASON not in text
    assert grant_id == global_id("EmergencyAccess", grant.pk)
    # and the trail still verifies: the new columns are part of each event's hash
    from audit.selectors import audit_chain_verify

    report = audit_chain_verify()
    assert report.broken is None and report.checked == AuditEvent.objects.count()


def test_reads_and_annotations_under_the_grant_are_marked_emergency_in_the_trail_and_the_access_log(gql, world):
    # given house under a grant and grey by assignment both read alice's record, and house annotates it
    break_glass(gql, world.house, world.alice)
    assert can_read(gql, world.house, world.alice)
    assert can_read(gql, world.grey, world.alice)
    gql.execute(ADD, {"input": {"recordId": record_id(world.alice), "body": "Under the glass."}}, user=world.house.user)
    gql.execute(ADD, {"input": {"recordId": record_id(world.alice), "body": "Assigned."}}, user=world.grey.user)

    # then the trail marks house's read and note, not grey's
    def marks(action, doctor):
        return list(AuditEvent.objects.filter(action=action, actor=doctor.user).values_list("emergency", flat=True))

    assert marks(Action.RECORD_READ, world.house) == [True]
    assert marks(Action.RECORD_READ, world.grey) == [False]
    assert marks(Action.ANNOTATION_ADD, world.house) == [True]
    assert marks(Action.ANNOTATION_ADD, world.grey) == [False]
    # and so does alice's access log
    log = gql.execute(ACCESS_LOG, user=world.alice.user)
    assert log.errors == []
    entries = [edge["node"] for edge in log.data["myAccessLog"]["edges"]]

    def by(doctor):
        return {
            (entry["action"], entry["emergency"]) for entry in entries if entry["actor"]["fullName"] == doctor.full_name
        }

    house, grey = by(world.house.user), by(world.grey.user)
    assert {("EMERGENCY_ACCESS_GRANT", True), ("RECORD_READ", True), ("ANNOTATION_ADD", True)} <= house
    assert ("RECORD_READ", False) in grey and ("ANNOTATION_ADD", False) in grey


def test_a_second_request_while_one_is_in_force_answers_it(gql, world):
    first = break_glass(gql, world.house, world.alice).data["requestEmergencyAccess"]
    second = break_glass(gql, world.house, world.alice, reason="Still in the ER, second look at the chart.")
    assert second.errors == []
    assert second.data["requestEmergencyAccess"]["id"] == first["id"]
    assert second.data["requestEmergencyAccess"]["reason"] == REASON
    assert EmergencyAccess.objects.count() == 1
    assert AuditEvent.objects.filter(action=Action.EMERGENCY_ACCESS_GRANT).count() == 1


def test_after_it_lapsed_a_new_request_makes_a_new_grant(gql, world):
    with time_machine.travel(T0, tick=False) as clock:
        first = break_glass(gql, world.house, world.alice).data["requestEmergencyAccess"]
        clock.move_to(T0 + datetime.timedelta(minutes=MINUTES + 5))
        gql.tokens.clear()  # access tokens live 5 minutes: sign in again
        assert not can_read(gql, world.house, world.alice)
        second = break_glass(gql, world.house, world.alice)
        assert second.errors == []
        assert second.data["requestEmergencyAccess"]["id"] != first["id"]
        assert can_read(gql, world.house, world.alice)
        old, new = EmergencyAccess.objects.order_by("created_at")
        assert old.ended_at == old.expires_at and new.ended_at is None


def test_an_assignment_replaces_a_grant_and_outlives_its_sixty_minutes(gql, world):
    with time_machine.travel(T0, tick=False) as clock:
        break_glass(gql, world.house, world.alice)
        factories.assign(doctor=world.house, patient=world.alice, by=world.coordinator)
        grant = EmergencyAccess.objects.get()
        assert (grant.ended_at, grant.ended_by_id) == (T0, world.coordinator.pk)
        clock.move_to(T0 + datetime.timedelta(minutes=MINUTES * 3))
        gql.tokens.clear()  # access tokens live 5 minutes: sign in again
        assert can_read(gql, world.house, world.alice)


def test_an_assignment_after_a_lapsed_grant_gives_access(gql, world):
    with time_machine.travel(T0, tick=False) as clock:
        break_glass(gql, world.house, world.alice)
        clock.move_to(T0 + datetime.timedelta(minutes=MINUTES * 2))
        gql.tokens.clear()  # access tokens live 5 minutes: sign in again
        factories.assign(doctor=world.house, patient=world.alice, by=world.coordinator)
        assert can_read(gql, world.house, world.alice)


# --- revoking ------------------------------------------------------------------------------------


def test_the_doctor_ends_their_own_grant_and_loses_access_at_once(gql, world):
    grant_id = break_glass(gql, world.house, world.alice).data["requestEmergencyAccess"]["id"]
    result = gql.execute(REVOKE, {"input": {"id": grant_id}}, user=world.house.user)
    assert result.errors == []
    data = result.data["revokeEmergencyAccess"]
    assert (data["active"], data["endedBy"]) == (False, {"fullName": world.house.user.full_name, "role": "DOCTOR"})
    assert not can_read(gql, world.house, world.alice)
    assert not HealthRecordUserObjectPermission.objects.filter(user=world.house.user).exists()
    again = gql.execute(REVOKE, {"input": {"id": grant_id}}, user=world.house.user)
    assert again.code == "CONFLICT"
    event = AuditEvent.objects.get(action=Action.EMERGENCY_ACCESS_REVOKE)
    assert (event.actor_id, event.patient_id, event.emergency) == (world.house.user.pk, world.alice.pk, True)


def test_who_may_end_a_grant(gql, world, reviewer):
    grant_id = break_glass(gql, world.house, world.alice).data["requestEmergencyAccess"]["id"]
    variables = {"input": {"id": grant_id}}
    assert gql.execute(REVOKE, variables).code == "UNAUTHENTICATED"
    assert gql.execute(REVOKE, variables, user=world.alice.user).code == "FORBIDDEN"
    assert gql.execute(REVOKE, variables, user=world.staff_without_perms).code == "FORBIDDEN"
    assert gql.execute(REVOKE, variables, user=world.grey.user).code == "NOT_FOUND"  # another doctor's
    assert can_read(gql, world.house, world.alice)
    result = gql.execute(REVOKE, variables, user=reviewer)
    assert result.errors == []
    assert result.data["revokeEmergencyAccess"]["endedBy"] == {"fullName": reviewer.full_name, "role": "STAFF"}
    assert not can_read(gql, world.house, world.alice)


# --- reviewing and listing -----------------------------------------------------------------------


def test_staff_list_the_grants_awaiting_review_and_close_each_with_a_verdict(gql, world, reviewer):
    grant_id = break_glass(gql, world.house, world.alice).data["requestEmergencyAccess"]["id"]
    awaiting = gql.execute(LIST, {"reviewed": False}, user=reviewer)
    assert awaiting.errors == []
    (edge,) = awaiting.data["emergencyAccesses"]["edges"]
    assert edge["node"] == {
        "id": grant_id,
        "active": True,
        "reason": REASON,
        "verdict": None,
        "doctor": {"fullName": world.house.user.full_name},
        "patient": {"fullName": world.alice.user.full_name},
        "reviewer": None,
        "endedBy": None,
    }
    result = gql.execute(
        REVIEW, {"input": {"id": grant_id, "verdict": "JUSTIFIED", "note": "ER log confirms."}}, user=reviewer
    )
    assert result.errors == []
    data = result.data["reviewEmergencyAccess"]
    assert (data["verdict"], data["reviewNote"], data["reviewer"]) == (
        "JUSTIFIED",
        "ER log confirms.",
        {"fullName": reviewer.full_name, "role": "STAFF"},
    )
    assert gql.execute(LIST, {"reviewed": False}, user=reviewer).data["emergencyAccesses"]["totalCount"] == 0
    assert gql.execute(LIST, {"reviewed": True}, user=reviewer).data["emergencyAccesses"]["totalCount"] == 1
    again = gql.execute(REVIEW, {"input": {"id": grant_id, "verdict": "UNJUSTIFIED"}}, user=reviewer)
    assert again.code == "CONFLICT"
    assert AuditEvent.objects.filter(action=Action.EMERGENCY_ACCESS_REVIEW, actor=reviewer).count() == 1


def test_only_reviewing_staff_list_and_review(gql, world, reviewer):
    grant_id = break_glass(gql, world.house, world.alice).data["requestEmergencyAccess"]["id"]
    review = {"input": {"id": grant_id, "verdict": "UNJUSTIFIED", "note": ""}}
    assert gql.execute(LIST).code == "UNAUTHENTICATED"
    assert gql.execute(REVIEW, review).code == "UNAUTHENTICATED"
    for user in (world.alice.user, world.house.user, world.grey.user, world.coordinator, world.staff_without_perms):
        assert gql.execute(LIST, user=user).code == "FORBIDDEN", user
        assert gql.execute(REVIEW, review, user=user).code == "FORBIDDEN", user
    assert EmergencyAccess.objects.get().reviewed_at is None


def test_the_list_costs_the_same_queries_for_two_grants_and_for_twenty(gql, world, reviewer, django_assert_num_queries):
    def grants(count: int) -> None:
        for _ in range(count):
            doctor, patient = factories.make_doctor(), factories.make_patient()
            break_glass(gql, doctor, patient)
        EmergencyAccess.objects.filter(pk__in=list(EmergencyAccess.objects.values_list("pk", flat=True)[:1])).update(
            ended_by=reviewer, ended_at=timezone.now()
        )

    grants(2)
    gql.sign_in(reviewer)
    with django_assert_num_queries(QUERIES_FOR_THE_LIST):
        assert gql.execute(LIST, user=reviewer).data["emergencyAccesses"]["totalCount"] == 2
    grants(18)
    with django_assert_num_queries(QUERIES_FOR_THE_LIST):
        assert gql.execute(LIST, user=reviewer).data["emergencyAccesses"]["totalCount"] == 20


QUERIES_FOR_THE_LIST = 5  # session, user, count, page (doctors, patients, reviewers and enders joined), audit


# --- with MFA on, the code is asked too --------------------------------------------------------------


def test_with_mfa_on_the_password_alone_is_not_enough_and_a_wrong_code_counts(gql, world):
    from tests.auth.mfa_flows import STEP, code_at, enrol
    from tests.auth.mfa_flows import T0 as MFA_T0

    with time_machine.travel(MFA_T0, tick=False) as clock:
        secret, _recovery_codes = enrol(gql, world.house.user)
        clock.shift(STEP)
        # when house sends only his password, then MFA_REQUIRED, and it counts as nothing
        no_code = break_glass(gql, world.house, world.alice)
        assert (no_code.code, no_code.data) == ("MFA_REQUIRED", None)
        assert LoginFailure.objects.count() == 0
        # when the code is wrong, then BAD_USER_INPUT naming it, counted like a failed login
        wrong = break_glass(gql, world.house, world.alice, code="000000")
        assert wrong.code == "BAD_USER_INPUT"
        assert list(wrong.errors[0]["extensions"]["fields"]) == ["code"]
        assert LoginFailure.objects.count() == 1
        assert not EmergencyAccess.objects.exists()
        # when the current code comes with the password, then the glass breaks
        right = break_glass(gql, world.house, world.alice, code=code_at(secret, MFA_T0 + STEP))
        assert right.errors == []
        assert right.data["requestEmergencyAccess"]["active"] is True
        assert can_read(gql, world.house, world.alice)


def test_node_serves_a_grant_to_its_doctor_and_reviewers_only(gql, world, reviewer):
    grant_id = break_glass(gql, world.house, world.alice).data["requestEmergencyAccess"]["id"]
    query = "query ($id: ID!) { node(id: $id) { ... on EmergencyAccess { id active } } }"
    for user in (world.house.user, reviewer):
        result = gql.execute(query, {"id": grant_id}, user=user)
        assert (result.errors, result.data) == ([], {"node": {"id": grant_id, "active": True}})
    for user in (world.grey.user, world.alice.user, world.coordinator):
        result = gql.execute(query, {"id": grant_id}, user=user)
        assert (result.code, result.data) == ("NOT_FOUND", {"node": None}), user
