"""Every PHI read writes one audit event per request per patient, naming the fields read."""

import pytest
from django.db import connection

from audit.models import Action, AuditEvent, Outcome
from records.services import annotation_add
from tests import factories
from tests.conftest import global_id

RECORD_FIELDS = "allergies medications bloodType heightCm"


def read_events():
    return list(AuditEvent.objects.filter(action__in=[Action.RECORD_READ, Action.ANNOTATION_READ]))


@pytest.fixture
def noted_world(world):
    annotation_add(actor=world.grey.user, record=world.alice.health_record, body="Mild asthma, keep inhaler.")
    return world


def test_my_health_record_writes_one_event_with_the_fields_read(noted_world, gql):
    # given alice, with a note on her record
    alice = noted_world.alice
    # when she reads her record, its annotations' bodies included
    result = gql.execute(
        "{ myHealthRecord { id allergies medications annotations(first: 5) { edges { node { body } } } } }",
        user=alice.user,
        headers={"HTTP_USER_AGENT": "ClinicApp/1.0", "REMOTE_ADDR": "10.1.2.3"},
    )
    # then she got it, and exactly one event says who read which fields, from where
    assert result.errors == []
    assert result.data["myHealthRecord"]["annotations"]["edges"][0]["node"]["body"] == "Mild asthma, keep inhaler."
    [event] = read_events()
    assert (event.actor_id, event.patient_id, event.action, event.outcome) == (
        alice.user.pk,
        alice.pk,
        Action.RECORD_READ,
        Outcome.ALLOWED,
    )
    assert event.fields == ["allergies", "annotations.body", "medications"]
    assert (event.object_type, event.object_id) == ("records.HealthRecord", str(alice.health_record.pk))
    assert (event.user_agent, event.ip) == ("ClinicApp/1.0", "10.1.2.3")
    assert len(event.request_id) >= 8


def test_node_read_by_the_assigned_doctor_writes_one_event(noted_world, gql):
    # given dr. grey, assigned to alice
    world = noted_world
    record_id = global_id("HealthRecord", world.alice.health_record.pk)
    # when he fetches her record by id, through a fragment
    result = gql.execute(
        "query($id: ID!) { node(id: $id) { ... on HealthRecord { conditions weightKg } } }",
        {"id": record_id},
        user=world.grey.user,
    )
    # then one event names the doctor and the fields of the fragment
    assert result.errors == []
    assert result.data["node"] == {"conditions": "", "weightKg": None}
    [event] = read_events()
    assert (event.actor_id, event.patient_id, event.outcome) == (world.grey.user.pk, world.alice.pk, Outcome.ALLOWED)
    assert event.fields == ["conditions", "weightKg"]


def test_node_read_of_an_annotation_names_the_annotation_fields(noted_world, gql):
    # given the note dr. grey wrote on alice's record
    world = noted_world
    annotation = world.alice.health_record.annotations.get()
    # when he reads it by id
    result = gql.execute(
        "query($id: ID!) { node(id: $id) { ... on Annotation { body createdAt } } }",
        {"id": global_id("Annotation", annotation.pk)},
        user=world.grey.user,
    )
    # then one ANNOTATION_READ event for alice
    assert result.data["node"]["body"] == "Mild asthma, keep inhaler."
    [event] = read_events()
    assert (event.action, event.patient_id) == (Action.ANNOTATION_READ, world.alice.pk)
    assert event.fields == ["annotations.body", "annotations.createdAt"]


def test_nested_reads_write_one_event_per_patient(world, gql):
    # given dr. grey with two patients: alice and, newly, bob
    factories.assign(doctor=world.grey, patient=world.bob, by=world.coordinator)
    # when he lists his patients with their records, asking for alice's twice over (an alias)
    result = gql.execute(
        """{ patients(first: 10) { edges { node { fullName healthRecord { allergies notes }
             again: healthRecord { allergies } } } } }""",
        user=world.grey.user,
    )
    # then one event per patient, with the union of the fields read
    assert result.errors == []
    assert len(result.data["patients"]["edges"]) == 2
    events = read_events()
    assert sorted(str(event.patient_id) for event in events) == sorted([str(world.alice.pk), str(world.bob.pk)])
    assert {tuple(event.fields) for event in events} == {("allergies", "notes")}
    assert {event.actor_id for event in events} == {world.grey.user.pk}


def test_a_read_returning_no_phi_writes_nothing(world, gql):
    # given staff, who see patients' demographics but never their records
    # when the coordinator lists patients and asks for records
    result = gql.execute(
        "{ patients(first: 10) { edges { node { fullName healthRecord { allergies } } } } }",
        user=world.coordinator,
    )
    # then no record came back, and no read is recorded
    assert [edge["node"]["healthRecord"] for edge in result.data["patients"]["edges"]] == [None, None]
    assert read_events() == []


def test_a_denied_read_of_an_existing_record_writes_a_denied_event(world, gql):
    # given dr. house, never assigned to alice
    record_id = global_id("HealthRecord", world.alice.health_record.pk)
    # when he asks for her record by id
    result = gql.execute(
        "query($id: ID!) { node(id: $id) { ... on HealthRecord { allergies } } }",
        {"id": record_id},
        user=world.house.user,
    )
    # then he learns nothing, and the attempt is on record as DENIED
    assert result.code == "NOT_FOUND"
    assert result.data == {"node": None}
    [event] = AuditEvent.objects.filter(outcome=Outcome.DENIED)
    assert (event.actor_id, event.patient_id, event.action) == (world.house.user.pk, world.alice.pk, Action.RECORD_READ)
    assert event.fields == ["allergies"]


def test_a_read_of_a_missing_record_answers_the_same_and_is_audited_the_same(world, gql):
    # given an id that names no record
    missing_pk = "00000000-0000-0000-0000-000000000000"
    missing = global_id("HealthRecord", missing_pk)
    # when dr. house asks for it
    result = gql.execute(
        "query($id: ID!) { node(id: $id) { ... on HealthRecord { allergies } } }",
        {"id": missing},
        user=world.house.user,
    )
    # then the same NOT_FOUND as for a record he may not see, and the same DENIED event, of nobody's data
    assert result.code == "NOT_FOUND"
    [event] = AuditEvent.objects.filter(outcome=Outcome.DENIED)
    assert (event.actor_id, event.patient_id, event.action) == (world.house.user.pk, None, Action.RECORD_READ)
    assert (event.object_type, event.object_id, event.fields) == ("records.HealthRecord", missing_pk, ["allergies"])


def test_add_annotation_on_a_record_one_may_not_annotate_writes_a_denied_event(world, gql):
    # given the former doctor of alice
    record_id = global_id("HealthRecord", world.alice.health_record.pk)
    # when he tries to annotate her record
    result = gql.execute(
        "mutation($input: AddAnnotationInput!) { addAnnotation(input: $input) { id } }",
        {"input": {"recordId": record_id, "body": "Still watching."}},
        user=world.former.user,
    )
    # then NOT_FOUND, no annotation, and a DENIED ANNOTATION_ADD event
    assert result.code == "NOT_FOUND"
    assert world.alice.health_record.annotations.count() == 0
    [event] = AuditEvent.objects.filter(outcome=Outcome.DENIED)
    assert (event.actor_id, event.patient_id, event.action) == (
        world.former.user.pk,
        world.alice.pk,
        Action.ANNOTATION_ADD,
    )


def test_mutation_results_are_audited_as_reads_next_to_the_write(world, gql):
    # given dr. grey, assigned to alice
    record_id = global_id("HealthRecord", world.alice.health_record.pk)
    # when he adds a note and reads its body back
    result = gql.execute(
        "mutation($input: AddAnnotationInput!) { addAnnotation(input: $input) { body } }",
        {"input": {"recordId": record_id, "body": "Refer to allergist."}},
        user=world.grey.user,
    )
    # then the write and the read of its result are both on record
    assert result.data["addAnnotation"]["body"] == "Refer to allergist."
    actions = list(AuditEvent.objects.filter(actor=world.grey.user).values_list("action", "fields"))
    assert actions[-2:] == [(Action.ANNOTATION_ADD, []), (Action.ANNOTATION_READ, ["annotations.body"])]


@pytest.fixture
def audit_table_refusing_inserts(db):
    """A database that refuses audit rows (full disk, lost privilege, …), made real with a trigger."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'audit insert refused'; END; $$"
            )
            cursor.execute(
                "CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_auditevent "
                "FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_auditevent "
                "BEGIN SELECT RAISE(ABORT, 'audit insert refused'); END"
            )
    yield
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_refuse_audit")


def test_when_the_audit_write_fails_no_phi_is_returned(world, gql, audit_table_refusing_inserts):
    # given an audit table that refuses rows
    alice = world.alice
    # when alice reads her record
    result = gql.execute("{ myHealthRecord { allergies } }", user=alice.user)
    # then no data at all, only an INTERNAL error
    assert result.data is None
    assert result.codes == ["INTERNAL"]


def test_retracting_someone_elses_annotation_writes_a_denied_event(noted_world, gql):
    # given a second doctor assigned to alice, and dr. grey's note on her record
    world = noted_world
    colleague = factories.make_doctor()
    factories.assign(doctor=colleague, patient=world.alice, by=world.coordinator)
    annotation = world.alice.health_record.annotations.get()
    # when the colleague tries to retract dr. grey's note
    result = gql.execute(
        "mutation($input: RetractAnnotationInput!) { retractAnnotation(input: $input) { retractedAt } }",
        {"input": {"id": global_id("Annotation", annotation.pk), "reason": "Not mine to keep."}},
        user=colleague.user,
    )
    # then FORBIDDEN, the note stands, and the attempt is a DENIED event on alice's record
    assert result.code == "FORBIDDEN"
    annotation.refresh_from_db()
    assert annotation.retracted_at is None
    [event] = AuditEvent.objects.filter(outcome=Outcome.DENIED)
    assert (event.actor_id, event.patient_id, event.action) == (
        colleague.user.pk,
        world.alice.pk,
        Action.ANNOTATION_RETRACT,
    )
    assert event.object_id == str(world.alice.health_record.pk)


def test_reading_only_annotations_is_an_annotation_read(noted_world, gql):
    # when dr. grey lists his patients' notes and nothing else of their records
    result = gql.execute(
        "{ patients(first: 10) { edges { node { healthRecord { annotations(first: 5) { totalCount } } } } } }",
        user=noted_world.grey.user,
    )
    # then one ANNOTATION_READ event for alice
    assert result.data["patients"]["edges"][0]["node"]["healthRecord"]["annotations"]["totalCount"] == 1
    [event] = read_events()
    assert (event.action, event.patient_id, event.fields) == (
        Action.ANNOTATION_READ,
        noted_world.alice.pk,
        ["annotations.totalCount"],
    )
