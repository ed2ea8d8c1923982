"""HealthRecord.history: each revision with who, when, and every field's old and new value."""

from audit.models import Action, AuditEvent
from tests.conftest import global_id

UPDATE = "mutation($input: UpdateHealthRecordInput!) { updateHealthRecord(input: $input) { allergies } }"
HISTORY = """
query($id: ID!) { node(id: $id) { ... on HealthRecord {
  history(first: 10) { totalCount edges { node { changedAt changedBy { fullName role } changes { field old new } } } }
} } }
"""


def test_history_shows_old_and_new_values_after_two_updates(world, gql):
    # given alice changed her record twice
    alice = world.alice
    first = gql.execute(UPDATE, {"input": {"allergies": "Peanuts", "weightKg": 61.5}}, user=alice.user)
    second = gql.execute(UPDATE, {"input": {"allergies": "Peanuts, penicillin"}}, user=alice.user)
    assert first.errors == [] and second.errors == []
    # when her doctor reads the record's history
    result = gql.execute(HISTORY, {"id": global_id("HealthRecord", alice.health_record.pk)}, user=world.grey.user)
    # then both revisions, newest first, with who made them and each field's old and new value
    assert result.errors == []
    history = result.data["node"]["history"]
    assert history["totalCount"] == 2
    newest, oldest = (edge["node"] for edge in history["edges"])
    assert newest["changes"] == [{"field": "allergies", "old": "Peanuts", "new": "Peanuts, penicillin"}]
    assert oldest["changes"] == [
        {"field": "allergies", "old": "", "new": "Peanuts"},
        {"field": "weightKg", "old": None, "new": "61.5"},
    ]
    assert newest["changedBy"] == {"fullName": alice.full_name, "role": "PATIENT"}
    assert newest["changedAt"] >= oldest["changedAt"]
    # and reading the history is itself audited as a read of alice's PHI
    read = AuditEvent.objects.filter(actor=world.grey.user, action=Action.RECORD_READ).get()
    assert read.fields == ["history.changedAt", "history.changedBy", "history.changes", "history.totalCount"]


def test_each_update_is_audited_with_the_fields_it_changed(world, gql):
    # given alice
    alice = world.alice
    # when she changes two fields, from her phone
    gql.execute(
        UPDATE,
        {"input": {"medications": "Ibuprofen", "heightCm": 170}},
        user=alice.user,
        headers={"HTTP_USER_AGENT": "ClinicPhone/3"},
    )
    # then one RECORD_UPDATE event names them, with where it came from
    event = AuditEvent.objects.get(action=Action.RECORD_UPDATE)
    assert (event.actor_id, event.patient_id, event.fields) == (alice.user.pk, alice.pk, ["height_cm", "medications"])
    assert (event.user_agent, event.ip, event.outcome) == ("ClinicPhone/3", "127.0.0.1", "ALLOWED")


def test_history_is_not_visible_to_those_who_may_not_read_the_record(world, gql):
    # given alice changed her record
    gql.execute(UPDATE, {"input": {"allergies": "Latex"}}, user=world.alice.user)
    # when dr. house (never assigned) asks for its history
    result = gql.execute(
        HISTORY, {"id": global_id("HealthRecord", world.alice.health_record.pk)}, user=world.house.user
    )
    # then NOT_FOUND, as for any record he may not read
    assert result.code == "NOT_FOUND"
    assert result.data == {"node": None}
