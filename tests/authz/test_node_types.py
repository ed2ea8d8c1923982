"""node(id) serves the types it can scope; any other well-formed ID answers like a missing object."""

from records.models import HealthRecordRevision
from records.services import health_record_update
from tests.conftest import global_id

NODE = "query ($id: ID!) { node(id: $id) { id } }"


def test_a_revision_id_is_not_served_by_node_even_to_the_patient(world, gql):
    # given a revision of alice's record (its changes are read through HealthRecord.history)
    health_record_update(actor=world.alice.user, record=world.alice.health_record, changes={"allergies": "Latex"})
    revision = HealthRecordRevision.objects.get(record=world.alice.health_record)
    # when alice asks node for it
    result = gql.execute(NODE, {"id": global_id("HealthRecordRevision", revision.pk)}, user=world.alice.user)
    # then it answers like a missing object, not with the revision
    assert result.code == "NOT_FOUND"
    assert result.data == {"node": None}


def test_garbage_ids_are_bad_input(world, gql):
    # given an ID that is not a global ID at all
    result = gql.execute(NODE, {"id": "not-a-global-id"}, user=world.alice.user)
    # then BAD_USER_INPUT naming the argument
    assert result.code == "BAD_USER_INPUT"
    assert result.errors[0]["extensions"]["fields"] == {"id": ["Not a valid ID."]}
