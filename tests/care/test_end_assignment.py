"""endAssignment: the doctor loses access to the record in the same transaction."""

import pytest
from django.db import transaction

from care.models import Assignment
from care.services import assignment_end
from records.models import HealthRecordUserObjectPermission
from tests.conftest import global_id

END = """
mutation ($input: EndAssignmentInput!) { endAssignment(input: $input) { id active endedAt doctor { fullName } } }
"""
READ_RECORD = "query ($id: ID!) { node(id: $id) { ... on HealthRecord { allergies } } }"
ADD = "mutation ($input: AddAnnotationInput!) { addAnnotation(input: $input) { id } }"
PATIENTS = "{ patients { totalCount edges { node { fullName healthRecord { id } } } } }"


def grants(user, patient):
    rows = HealthRecordUserObjectPermission.objects.filter(user=user, content_object__patient=patient)
    return sorted(rows.values_list("permission__codename", flat=True))


@pytest.fixture
def grey_to_alice(world) -> Assignment:
    return Assignment.objects.get(doctor=world.grey, patient=world.alice, ended_at__isnull=True)


def test_end_assignment_returns_it_ended_and_the_doctors_next_read_is_not_found(gql, world, grey_to_alice):
    # given grey reads alice's record today
    record_id = global_id("HealthRecord", world.alice.health_record.pk)
    assert gql.execute(READ_RECORD, {"id": record_id}, user=world.grey.user).errors == []
    # when
    result = gql.execute(END, {"input": {"id": global_id("Assignment", grey_to_alice.pk)}}, user=world.coordinator)
    # then
    assert result.errors == []
    data = result.data["endAssignment"]
    assert (data["id"], data["active"], data["doctor"]) == (
        global_id("Assignment", grey_to_alice.pk), False, {"fullName": world.grey.full_name}
    )
    assert data["endedAt"] is not None
    grey_to_alice.refresh_from_db()
    assert (grey_to_alice.ended_at is not None, grey_to_alice.ended_by_id) == (True, world.coordinator.pk)
    assert grants(world.grey.user, world.alice) == []
    # and every path to the record is closed at once
    read = gql.execute(READ_RECORD, {"id": record_id}, user=world.grey.user)
    assert (read.codes, read.data) == (["NOT_FOUND"], {"node": None})
    add = gql.execute(ADD, {"input": {"recordId": record_id, "body": "Late note."}}, user=world.grey.user)
    assert add.codes == ["NOT_FOUND"]
    patients = gql.execute(PATIENTS, user=world.grey.user)
    assert patients.data == {"patients": {"totalCount": 0, "edges": []}}


def test_ending_one_doctors_assignment_leaves_the_patient_and_other_doctors_alone(gql, world, grey_to_alice):
    # given house is assigned to alice as well
    from tests import factories

    factories.assign(doctor=world.house, patient=world.alice, by=world.coordinator)
    # when grey's assignment ends
    gql.execute(END, {"input": {"id": global_id("Assignment", grey_to_alice.pk)}}, user=world.coordinator)
    # then
    assert grants(world.house.user, world.alice) == ["annotate_healthrecord", "view_healthrecord"]
    assert grants(world.alice.user, world.alice) == ["change_healthrecord", "view_healthrecord"]


def test_access_stays_when_the_ending_transaction_rolls_back(world, grey_to_alice):
    # given
    class Abort(Exception):
        pass

    # when
    with pytest.raises(Abort), transaction.atomic():
        assignment_end(actor=world.coordinator, assignment=grey_to_alice)
        raise Abort
    # then
    grey_to_alice.refresh_from_db()
    assert grey_to_alice.ended_at is None
    assert grants(world.grey.user, world.alice) == ["annotate_healthrecord", "view_healthrecord"]
