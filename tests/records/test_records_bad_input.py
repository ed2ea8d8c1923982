"""Bad input to updateHealthRecord, addAnnotation and retractAnnotation: the right code, nothing written."""

import pytest

from records.models import Annotation, HealthRecord, HealthRecordRevision
from records.services import annotation_add
from tests.conftest import global_id

TOO_LONG = "x" * 10_001

UPDATE = "mutation ($input: UpdateHealthRecordInput!) { updateHealthRecord(input: $input) { id } }"
ADD = "mutation ($input: AddAnnotationInput!) { addAnnotation(input: $input) { id } }"
RETRACT = "mutation ($input: RetractAnnotationInput!) { retractAnnotation(input: $input) { id } }"


def snapshot():
    """Everything these mutations could write."""
    return (
        list(HealthRecord.objects.order_by("id").values()),
        HealthRecordRevision.objects.count(),
        list(Annotation.objects.order_by("id").values()),
    )


@pytest.fixture
def note(world) -> Annotation:
    return annotation_add(actor=world.grey.user, record=world.alice.health_record, body="Stable.")


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"allergies": TOO_LONG}, "allergies"),
        ({"medications": TOO_LONG}, "medications"),
        ({"conditions": TOO_LONG}, "conditions"),
        ({"notes": TOO_LONG}, "notes"),
        ({"heightCm": 29.9}, "heightCm"),
        ({"heightCm": 300.1}, "heightCm"),
        ({"heightCm": 170.25}, "heightCm"),  # one decimal place at most
        ({"heightCm": 1e308}, "heightCm"),
        ({"heightCm": -170}, "heightCm"),
        ({"weightKg": 0.5}, "weightKg"),
        ({"weightKg": 700.1}, "weightKg"),
        ({"weightKg": 0}, "weightKg"),
        ({"heightCm": "tall"}, "heightCm"),
        ({"bloodType": "Z+"}, "bloodType"),
        ({"bloodType": "A+"}, "bloodType"),  # the enum's name is A_POSITIVE; its value is not accepted
        ({"bloodType": ""}, "bloodType"),
        ({"allergies": 12}, "allergies"),
        ({"favouriteColour": "blue"}, "favouriteColour"),
        ({"id": global_id("HealthRecord", "00000000-0000-0000-0000-000000000000")}, "id"),
    ],
)
def test_update_health_record_rejects_bad_values(gql, world, given, field):
    # given a valid change next to the bad one, to prove nothing is half-applied
    before = snapshot()
    # when
    result = gql.execute(UPDATE, {"input": {"medications": "Aspirin", **given}}, user=world.alice.user)
    # then
    assert result.codes == ["BAD_USER_INPUT"]
    assert list(result.errors[0]["extensions"]["fields"]) == [field]
    assert result.data is None
    assert snapshot() == before


def test_update_health_record_reports_every_bad_field(gql, world):
    # when
    variables = {"input": {"heightCm": 29.9, "weightKg": 700.1, "notes": TOO_LONG}}
    result = gql.execute(UPDATE, variables, user=world.alice.user)
    # then
    assert result.codes == ["BAD_USER_INPUT"]
    assert sorted(result.errors[0]["extensions"]["fields"]) == ["heightCm", "notes", "weightKg"]
    assert HealthRecordRevision.objects.count() == 0


@pytest.mark.parametrize("variables", [{}, {"input": None}])
def test_update_health_record_without_input(gql, world, variables):
    # when
    result = gql.execute(UPDATE, variables, user=world.alice.user)
    # then
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.data is None
    assert HealthRecordRevision.objects.count() == 0


def test_a_bad_value_is_not_echoed_back(gql, world):
    # given a value that is PHI
    secret = "HIV positive since 2011"
    # when the patient sends it where a number belongs
    result = gql.execute(UPDATE, {"input": {"heightCm": secret}}, user=world.alice.user)
    # then the error names the field, not the value
    assert result.codes == ["BAD_USER_INPUT"]
    assert list(result.errors[0]["extensions"]["fields"]) == ["heightCm"]
    assert secret not in str(result.body)


def malformed_ids(type_name: str, wrong_type: str, wrong_type_pk):
    return [
        "",
        "   ",
        "garbage",
        "not base64 !!!",
        global_id(wrong_type, wrong_type_pk),  # a valid global ID of another type
        global_id(type_name, "12345"),  # the right type, not a UUID
        global_id(type_name, ""),
    ]


@pytest.mark.parametrize("index", range(7))
def test_add_annotation_rejects_malformed_record_ids(gql, world, index):
    # given
    record_id = malformed_ids("HealthRecord", "Patient", world.alice.pk)[index]
    before = snapshot()
    # when
    result = gql.execute(ADD, {"input": {"recordId": record_id, "body": "Fine."}}, user=world.grey.user)
    # then
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["fields"] == {"recordId": ["Not a valid HealthRecord ID."]}
    assert result.data is None
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "code", "fields"),
    [
        ("", "BAD_USER_INPUT", ["body"]),
        ("   \n\t ", "BAD_USER_INPUT", ["body"]),
        (TOO_LONG, "BAD_USER_INPUT", ["body"]),
        (None, "BAD_USER_INPUT", ["body"]),
        (42, "BAD_USER_INPUT", ["body"]),
    ],
)
def test_add_annotation_rejects_bad_bodies(gql, world, body, code, fields):
    # given
    before = snapshot()
    # when
    variables = {"input": {"recordId": global_id("HealthRecord", world.alice.health_record.pk), "body": body}}
    result = gql.execute(ADD, variables, user=world.grey.user)
    # then
    assert result.codes == [code]
    assert list(result.errors[0]["extensions"]["fields"]) == fields
    assert result.data is None
    assert snapshot() == before


def test_add_annotation_without_a_body(gql, world):
    # when
    variables = {"input": {"recordId": global_id("HealthRecord", world.alice.health_record.pk)}}
    result = gql.execute(ADD, variables, user=world.grey.user)
    # then
    assert result.codes == ["BAD_USER_INPUT"]
    assert list(result.errors[0]["extensions"]["fields"]) == ["body"]
    assert Annotation.objects.count() == 0


@pytest.mark.parametrize("index", range(7))
def test_retract_annotation_rejects_malformed_ids(gql, world, note, index):
    # given
    annotation_id = malformed_ids("Annotation", "HealthRecord", world.alice.health_record.pk)[index]
    before = snapshot()
    # when
    result = gql.execute(RETRACT, {"input": {"id": annotation_id, "reason": "Wrong chart."}}, user=world.grey.user)
    # then
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["fields"] == {"id": ["Not a valid Annotation ID."]}
    assert snapshot() == before


@pytest.mark.parametrize("reason", ["", "  ", "x" * 1_001, TOO_LONG])
def test_retract_annotation_rejects_bad_reasons(gql, world, note, reason):
    # given
    before = snapshot()
    # when
    variables = {"input": {"id": global_id("Annotation", note.pk), "reason": reason}}
    result = gql.execute(RETRACT, variables, user=world.grey.user)
    # then
    assert result.codes == ["BAD_USER_INPUT"]
    assert list(result.errors[0]["extensions"]["fields"]) == ["reason"]
    assert snapshot() == before


def test_retracting_twice_is_a_conflict(gql, world, note):
    # given the note is retracted once
    variables = {"input": {"id": global_id("Annotation", note.pk), "reason": "Wrong chart."}}
    assert gql.execute(RETRACT, variables, user=world.grey.user).errors == []
    before = snapshot()
    # when
    result = gql.execute(RETRACT, {"input": {**variables["input"], "reason": "Again."}}, user=world.grey.user)
    # then
    assert result.codes == ["CONFLICT"]
    assert snapshot() == before
    note.refresh_from_db()
    assert note.retraction_reason == "Wrong chart."


@pytest.mark.parametrize(
    ("literal", "field"),
    [
        ("{bloodType: Z_PLUS}", "bloodType"),
        ('{heightCm: "tall"}', "heightCm"),
        ("{allergies: 12}", "allergies"),
        ('{favouriteColour: "blue"}', "favouriteColour"),
    ],
)
def test_bad_literals_name_the_field_too(gql, world, literal, field):
    # given the input written into the document instead of variables
    before = snapshot()
    # when
    result = gql.execute(f"mutation {{ updateHealthRecord(input: {literal}) {{ id }} }}", user=world.alice.user)
    # then
    assert result.codes == ["BAD_USER_INPUT"]
    assert list(result.errors[0]["extensions"]["fields"]) == [field]
    assert snapshot() == before
