import strawberry

from schema.records.types import BloodTypeEnum


@strawberry.input(
    name="UpdateHealthRecordInput",
    description="Changes to the caller's own health record. An omitted field is left as it is.",
)
class UpdateHealthRecordInput:
    blood_type: BloodTypeEnum | None = strawberry.field(default=strawberry.UNSET, description="Null clears it.")
    allergies: str | None = strawberry.field(default=strawberry.UNSET, description="Null clears it.")
    medications: str | None = strawberry.field(default=strawberry.UNSET, description="Null clears it.")
    conditions: str | None = strawberry.field(default=strawberry.UNSET, description="Null clears it.")
    notes: str | None = strawberry.field(default=strawberry.UNSET, description="Null clears it.")
    height_cm: float | None = strawberry.field(default=strawberry.UNSET, description="30-300 cm; null clears it.")
    weight_kg: float | None = strawberry.field(default=strawberry.UNSET, description="1-700 kg; null clears it.")

    TEXT_FIELDS = ("allergies", "medications", "conditions", "notes")

    def changes(self) -> dict:
        """The fields the caller gave, as model values."""
        given = {}
        for name in ("blood_type", *self.TEXT_FIELDS, "height_cm", "weight_kg"):
            value = getattr(self, name)
            if value is strawberry.UNSET:
                continue
            if name in self.TEXT_FIELDS and value is None:
                value = ""
            if name == "blood_type" and value is not None:
                value = value.value
            given[name] = value
        return given


@strawberry.input(name="AddAnnotationInput", description="A note on a health record, by an assigned doctor.")
class AddAnnotationInput:
    record_id: strawberry.ID = strawberry.field(description="The health record's global ID.")
    body: str = strawberry.field(description="The note: not blank, at most 10,000 characters.")


@strawberry.input(name="RetractAnnotationInput", description="Retract one's own annotation as entered in error.")
class RetractAnnotationInput:
    id: strawberry.ID = strawberry.field(description="The annotation's global ID.")
    reason: str = strawberry.field(description="Why it is retracted: not blank, at most 1,000 characters.")
