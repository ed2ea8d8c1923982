"""Bad input to assignDoctor and endAssignment: the right code, nothing written."""

import pytest

from care.models import Assignment, Notification
from records.models import HealthRecordUserObjectPermission
from tests.conftest import global_id

ASSIGN = "mutation ($input: AssignDoctorInput!) { assignDoctor(input: $input) { id } }"
END = "mutation ($input: EndAssignmentInput!) { endAssignment(input: $input) { id } }"


def snapshot():
    return (
        list(Assignment.objects.order_by("id").values()),
        HealthRecordUserObjectPermission.objects.count(),
        Notification.objects.count(),
    )


def malformed(type_name: str, wrong_type: str, wrong_type_pk) -> list[str]:
    return [
        "",
        "   ",
        "garbage",
        "x" * 10_001,
        global_id(wrong_type, wrong_type_pk),  # a valid global ID of another type
        global_id(type_name, "12345"),  # the right type, not a UUID
    ]


@pytest.mark.parametrize("index", range(6))
@pytest.mark.parametrize("field", ["doctorId", "patientId"])
def test_assign_doctor_rejects_malformed_ids(gql, world, field, index):
    # given one good id and one malformed one
    good = {"doctorId": global_id("Doctor", world.house.pk), "patientId": global_id("Patient", world.bob.pk)}
    expected_type = "Doctor" if field == "doctorId" else "Patient"
    bad = malformed(expected_type, "User", world.house.user.pk)[index]
    before = snapshot()
    # when
    result = gql.execute(ASSIGN, {"input": {**good, field: bad}}, user=world.coordinator)
    # then
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["fields"] == {field: [f"Not a valid {expected_type} ID."]}
    assert result.data is None
    assert snapshot() == before


def test_assign_doctor_with_the_ids_swapped(gql, world):
    # given a patient's id where the doctor's belongs and the other way round
    swapped = {"doctorId": global_id("Patient", world.bob.pk), "patientId": global_id("Doctor", world.house.pk)}
    before = snapshot()
    # when
    result = gql.execute(ASSIGN, {"input": swapped}, user=world.coordinator)
    # then the first bad field is named
    assert result.codes == ["BAD_USER_INPUT"]
    assert list(result.errors[0]["extensions"]["fields"]) == ["doctorId"]
    assert snapshot() == before


@pytest.mark.parametrize(
    "variables", [{}, {"input": None}, {"input": {}}, {"input": {"doctorId": None, "patientId": None}}]
)
def test_assign_doctor_without_ids(gql, world, variables):
    # given
    before = snapshot()
    # when
    result = gql.execute(ASSIGN, variables, user=world.coordinator)
    # then
    assert result.codes and set(result.codes) == {"BAD_USER_INPUT"}
    assert result.data is None
    assert snapshot() == before


def test_assigning_an_actively_assigned_pair_again_is_a_conflict(gql, world):
    # given grey is actively assigned to alice
    pair = {"doctorId": global_id("Doctor", world.grey.pk), "patientId": global_id("Patient", world.alice.pk)}
    before = snapshot()
    # when
    result = gql.execute(ASSIGN, {"input": pair}, user=world.coordinator)
    # then
    assert result.codes == ["CONFLICT"]
    assert result.data is None
    assert snapshot() == before


@pytest.mark.parametrize("index", range(6))
def test_end_assignment_rejects_malformed_ids(gql, world, index):
    # given
    bad = malformed("Assignment", "Patient", world.alice.pk)[index]
    before = snapshot()
    # when
    result = gql.execute(END, {"input": {"id": bad}}, user=world.coordinator)
    # then
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["fields"] == {"id": ["Not a valid Assignment ID."]}
    assert result.data is None
    assert snapshot() == before


def test_ending_an_ended_assignment_is_a_conflict(gql, world):
    # given former's assignment to alice has ended
    ended = Assignment.objects.get(doctor=world.former, patient=world.alice)
    before = snapshot()
    # when
    result = gql.execute(END, {"input": {"id": global_id("Assignment", ended.pk)}}, user=world.coordinator)
    # then
    assert result.codes == ["CONFLICT"]
    assert result.data is None
    assert snapshot() == before
