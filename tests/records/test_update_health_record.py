"""updateHealthRecord: a partial update of the caller's own record, every change kept as a revision."""

from decimal import Decimal

from records.models import HealthRecord, HealthRecordRevision

UPDATE = """
mutation ($input: UpdateHealthRecordInput!) {
  updateHealthRecord(input: $input) { bloodType allergies medications conditions notes heightCm weightKg updatedAt }
}
"""


def test_omitted_fields_stay_as_they_are(gql, world):
    # given a record with every field set
    first = {
        "bloodType": "O_NEGATIVE", "allergies": "Latex", "medications": "Metformin", "conditions": "Diabetes",
        "notes": "Prefers mornings", "heightCm": 170.5, "weightKg": 65.0,
    }
    assert gql.execute(UPDATE, {"input": first}, user=world.alice.user).errors == []
    # when only the medications change
    result = gql.execute(UPDATE, {"input": {"medications": "Insulin"}}, user=world.alice.user)
    # then
    assert result.errors == []
    record = result.data["updateHealthRecord"]
    assert {key: value for key, value in record.items() if key != "updatedAt"} == {**first, "medications": "Insulin"}
    stored = HealthRecord.objects.get(patient=world.alice)
    assert (stored.allergies, stored.medications, stored.height_cm) == ("Latex", "Insulin", Decimal("170.5"))


def test_null_clears_a_field(gql, world):
    # given
    alice = world.alice.user
    gql.execute(UPDATE, {"input": {"bloodType": "A_POSITIVE", "allergies": "Latex", "heightCm": 180}}, user=alice)
    # when
    result = gql.execute(UPDATE, {"input": {"bloodType": None, "allergies": None, "heightCm": None}}, user=alice)
    # then
    assert result.errors == []
    data = result.data["updateHealthRecord"]
    assert (data["bloodType"], data["allergies"], data["heightCm"]) == (None, "", None)
    stored = HealthRecord.objects.get(patient=world.alice)
    assert (stored.blood_type, stored.allergies, stored.height_cm) == (None, "", None)


def test_each_change_is_kept_as_a_revision_with_old_and_new_values(gql, world):
    # given
    gql.execute(UPDATE, {"input": {"allergies": "Latex", "heightCm": 170}}, user=world.alice.user)
    # when
    second = {"allergies": "Latex, peanuts", "heightCm": 170, "weightKg": 70.2}
    gql.execute(UPDATE, {"input": second}, user=world.alice.user)
    # then two revisions: who, when, and only the fields that changed
    revisions = list(HealthRecordRevision.objects.filter(record__patient=world.alice).order_by("changed_at", "id"))
    assert [revision.changed_by_id for revision in revisions] == [world.alice.user.pk] * 2
    assert all(revision.changed_at is not None for revision in revisions)
    assert [revision.changes for revision in revisions] == [
        {"allergies": {"old": "", "new": "Latex"}, "height_cm": {"old": None, "new": "170.0"}},
        {"allergies": {"old": "Latex", "new": "Latex, peanuts"}, "weight_kg": {"old": None, "new": "70.2"}},
    ]


def test_an_update_that_changes_nothing_writes_no_revision(gql, world):
    # given
    gql.execute(UPDATE, {"input": {"heightCm": 170}}, user=world.alice.user)
    # when the same values come again (70 and 70.0 are the same)
    result = gql.execute(UPDATE, {"input": {"heightCm": 170.0}}, user=world.alice.user)
    # then
    assert result.errors == []
    assert result.data["updateHealthRecord"]["heightCm"] == 170.0
    assert HealthRecordRevision.objects.filter(record__patient=world.alice).count() == 1


def test_the_range_boundaries_are_accepted(gql, world):
    # when
    low = gql.execute(UPDATE, {"input": {"heightCm": 30, "weightKg": 1}}, user=world.alice.user)
    high = gql.execute(UPDATE, {"input": {"heightCm": 300, "weightKg": 700}}, user=world.alice.user)
    # then
    assert low.errors == [] and high.errors == []
    assert (low.data["updateHealthRecord"]["heightCm"], low.data["updateHealthRecord"]["weightKg"]) == (30.0, 1.0)
    assert (high.data["updateHealthRecord"]["heightCm"], high.data["updateHealthRecord"]["weightKg"]) == (300.0, 700.0)


def test_text_of_exactly_ten_thousand_characters_is_accepted(gql, world):
    # when
    result = gql.execute(UPDATE, {"input": {"notes": "n" * 10_000}}, user=world.alice.user)
    # then
    assert result.errors == []
    assert len(HealthRecord.objects.get(patient=world.alice).notes) == 10_000
