"""Staff reads of demographics (name, date of birth, MRN) are audited like record reads.

One DEMOGRAPHICS_READ event per patient per request, naming the fields read, written in the
request's one audit append, and shown in the patient's access log.
"""

from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import Action, AuditEvent, Outcome
from tests import factories
from tests.conftest import global_id


def demographics_events():
    return list(AuditEvent.objects.filter(action=Action.DEMOGRAPHICS_READ).order_by("created_at"))


PATIENTS = "{ patients(first: 100) { edges { node { id fullName dateOfBirth } } } }"


def test_staff_reading_the_patients_list_writes_one_event_per_patient_in_one_statement(db, gql, settings):
    # given staff, and 12 patients
    staff = factories.make_staff()
    patients = [factories.make_patient() for _ in range(12)]
    token = gql.sign_in(staff)
    gql.execute(PATIENTS, token=token)  # warm process caches
    settings.AUDIT_READS = False
    with CaptureQueriesContext(connection) as unaudited:
        gql.execute(PATIENTS, token=token)
    settings.AUDIT_READS = True
    before = AuditEvent.objects.count()
    # when the list is read with auditing on
    with CaptureQueriesContext(connection) as audited:
        result = gql.execute(PATIENTS, token=token, headers={"REMOTE_ADDR": "10.9.8.7"})
    # then one more statement recorded a read of each patient: who, which fields, from where
    assert result.errors == []
    assert len(audited) == len(unaudited) + 1
    events = list(AuditEvent.objects.order_by("created_at")[before:])  # shards: no global sequence
    assert {event.patient_id for event in events} == {patient.pk for patient in patients}
    assert {(event.actor_id, event.action, event.outcome, event.object_type, event.ip) for event in events} == {
        (staff.pk, Action.DEMOGRAPHICS_READ, Outcome.ALLOWED, "users.Patient", "10.9.8.7")
    }
    assert {tuple(event.fields) for event in events} == {("dateOfBirth", "fullName")}
    assert len({event.request_id for event in events}) == 1


def test_one_event_per_patient_and_request_whatever_the_paths(world, gql):
    # when staff read alice by the list, her assignments and her user account in one document
    result = gql.execute(
        """query ($user: ID!) {
          patients { edges { node { fullName } } }
          assignments { edges { node { patient { medicalRecordNumber } } } }
          node(id: $user) { ... on User { patient { dateOfBirth } } }
        }""",
        {"user": global_id("User", world.alice.user.pk)},
        user=world.coordinator,
    )
    # then one event for her with every field read, one for bob (the list)
    assert result.errors == []
    by_patient = {event.patient_id: event.fields for event in demographics_events()}
    assert by_patient == {
        world.alice.pk: ["dateOfBirth", "fullName", "medicalRecordNumber"],
        world.bob.pk: ["fullName"],
    }


def test_staff_reading_a_patient_by_node_is_audited(world, gql):
    # when staff fetch alice by id, naming her MRN
    result = gql.execute(
        "query ($id: ID!) { node(id: $id) { ... on Patient { medicalRecordNumber } } }",
        {"id": global_id("Patient", world.alice.pk)},
        user=world.coordinator,
    )
    # then
    assert result.data == {"node": {"medicalRecordNumber": world.alice.medical_record_number}}
    [event] = demographics_events()
    assert (event.actor_id, event.patient_id, event.fields) == (
        world.coordinator.pk,
        world.alice.pk,
        ["medicalRecordNumber"],
    )
    assert (event.object_type, event.object_id) == ("users.Patient", str(world.alice.pk))


def test_an_auditor_reading_patients_through_the_trail_is_audited(world, gql):
    # given an auditor
    auditor = factories.make_staff(permissions=())
    auditor.user_permissions.add(Permission.objects.get(content_type__app_label="audit", codename="view_auditevent"))
    # when they read the trail with the patients' names
    result = gql.execute("{ auditEvents(first: 100) { edges { node { action patient { fullName } } } } }", user=auditor)
    # then their read of each named patient is on the trail too
    assert result.errors == []
    named = {
        edge["node"]["patient"]["fullName"] for edge in result.data["auditEvents"]["edges"] if edge["node"]["patient"]
    }
    assert named == {world.alice.full_name, world.bob.full_name}
    assert {(event.actor_id, event.patient_id) for event in demographics_events()} == {
        (auditor.pk, world.alice.pk),
        (auditor.pk, world.bob.pk),
    }


def test_no_demographic_field_selected_no_event(world, gql):
    # when staff list only the patients' ids
    result = gql.execute("{ patients { totalCount edges { node { id } } } }", user=world.coordinator)
    # then nothing identifying was read, and nothing is written
    assert result.errors == []
    assert demographics_events() == []


def test_the_patient_and_her_doctor_reading_her_demographics_are_not_demographics_events(world, gql):
    # when alice and dr.grey read her name (their reads of the record itself are audited as such)
    for user in (world.alice.user, world.grey.user):
        result = gql.execute("{ patients { edges { node { fullName medicalRecordNumber } } } }", user=user)
        assert result.errors == []
    # then no DEMOGRAPHICS_READ: only staff reads of demographics are audited
    assert demographics_events() == []


def test_the_patient_sees_the_staff_read_in_her_access_log(world, gql):
    # given staff read alice's date of birth
    gql.execute("{ patients { edges { node { fullName dateOfBirth } } } }", user=world.coordinator)
    # when alice reads her access log
    result = gql.execute(
        "{ myAccessLog(first: 1) { edges { node { action outcome fields actor { fullName role } } } } }",
        user=world.alice.user,
    )
    # then the newest entry says who read which of her demographics
    assert result.errors == []
    assert result.data["myAccessLog"]["edges"] == [
        {
            "node": {
                "action": "DEMOGRAPHICS_READ",
                "outcome": "ALLOWED",
                "fields": ["dateOfBirth", "fullName"],
                "actor": {"fullName": world.coordinator.full_name, "role": "STAFF"},
            }
        }
    ]


def test_staff_reading_a_patients_user_account_by_node_is_audited(world, gql):
    # when staff fetch alice's and dr.grey's user accounts by id, names included
    for user in (world.alice.user, world.grey.user):
        result = gql.execute(
            "query ($id: ID!) { node(id: $id) { ... on User { username fullName lastName } } }",
            {"id": global_id("User", user.pk)},
            user=world.coordinator,
        )
        assert result.errors == []
    # then reading the patient's name is on her trail; the doctor's name is not PHI
    assert [(event.patient_id, event.fields) for event in demographics_events()] == [
        (world.alice.pk, ["fullName", "lastName"])
    ]


def test_an_auditor_reading_a_patient_as_an_actor_is_audited(world, gql):
    # given alice read her own record (an event whose actor is her)
    gql.execute("{ myHealthRecord { allergies } }", user=world.alice.user)
    auditor = factories.make_staff(permissions=())
    auditor.user_permissions.add(Permission.objects.get(content_type__app_label="audit", codename="view_auditevent"))
    # when the auditor reads who did what
    result = gql.execute(
        "{ auditEvents(first: 100, action: RECORD_READ) { edges { node { actor { fullName } } } } }", user=auditor
    )
    # then alice's name went to the auditor, and that read is on her trail
    assert result.errors == []
    assert result.data["auditEvents"]["edges"] == [{"node": {"actor": {"fullName": world.alice.full_name}}}]
    assert [(event.actor_id, event.patient_id, event.fields) for event in demographics_events()] == [
        (auditor.pk, world.alice.pk, ["fullName"])
    ]
