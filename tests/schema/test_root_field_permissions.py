from strawberry.permission import PermissionExtension

from schema import schema
from schema.permissions import AllowAny

# Public on purpose: they check credentials of their own (a password, a refresh token).
PUBLIC_ROOT_FIELDS = {"token_auth", "refresh_token", "revoke_token"}
# The account links (a single-use token of their own) and the reset request (answers alike for everyone).
PUBLIC_ROOT_FIELDS |= {"accept_invitation", "request_password_reset", "reset_password"}
# The second step of a login with TOTP: its mfaToken is the credential.
PUBLIC_ROOT_FIELDS |= {"verify_mfa"}


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


def test_only_the_token_fields_are_public():
    # given every root field whose check lets anyone through
    public = {
        field.name
        for _, field in root_fields()
        for extension in field.extensions
        if isinstance(extension, PermissionExtension)
        and any(isinstance(permission, AllowAny) for permission in extension.permissions)
    }
    # then they are exactly the login/refresh/logout fields: PHI is never behind AllowAny
    assert public == PUBLIC_ROOT_FIELDS
