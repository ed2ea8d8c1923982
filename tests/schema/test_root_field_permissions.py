from strawberry.permission import PermissionExtension

from schema import schema


def root_fields():
    for root in (schema.schema_converter.type_map["Query"], schema.schema_converter.type_map["Mutation"]):
        definition = root.definition
        for field in definition.fields:
            yield definition.name, field


def test_every_root_field_declares_a_permission_check():
    # given every field of Query and Mutation
    unguarded = [
        f"{type_name}.{field.name}"
        for type_name, field in root_fields()
        if not any(
            isinstance(extension, PermissionExtension) and extension.permissions for extension in field.extensions
        )
    ]
    # then none of them lacks a permission extension
    assert unguarded == []


def test_the_walk_sees_every_root_field():
    # a walk that saw nothing could not fail: make sure it saw the contract's fields
    names = {field.name for _, field in root_fields()}
    contract = {"node", "me", "my_health_record", "patients", "doctors", "assignments", "token_auth", "add_annotation"}
    assert contract <= names
