"""Relay global IDs: the `node` field and the decoding of IDs given as arguments, in one place."""

import uuid
from typing import Any

import strawberry
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from strawberry import relay
from strawberry.types import Info

from care.emergency import emergency_accesses_visible_to
from care.selectors import assignments_visible_to, doctors_visible_to, patients_visible_to
from records.selectors import annotations_visible_to, records_visible_to
from schema.audit.reads import audit_denied_node, audit_node_read
from schema.permissions import IsAuthenticated, current_user, guard
from users.selectors import users_visible_to
from users.sessions import sessions_live_for

# Each node type is fetched through the selector that scopes it, so `node` can never
# show what the lists would not: missing and hidden both answer NOT_FOUND.
NODE_SELECTORS = {
    "User": users_visible_to,
    "Doctor": doctors_visible_to,
    "Patient": patients_visible_to,
    "HealthRecord": records_visible_to,
    "Annotation": annotations_visible_to,
    "Assignment": assignments_visible_to,
    "EmergencyAccess": emergency_accesses_visible_to,  # reviewing staff, and a doctor their own
    "Session": sessions_live_for,
}


def decode_global_id(value: str, *, expected_type: str, field: str, pk_type: type = uuid.UUID) -> Any:
    """The primary key behind a global ID of `expected_type`; BAD_USER_INPUT when malformed."""
    try:
        global_id = relay.GlobalID.from_id(value)
        if global_id.type_name != expected_type:
            raise ValueError(global_id.type_name)
        return pk_type(global_id.node_id)
    except (ValueError, TypeError) as error:
        raise ValidationError({field: [f"Not a valid {expected_type} ID."]}) from error


def resolve_node(info: Info, id: strawberry.ID) -> relay.Node | None:
    try:
        global_id = relay.GlobalID.from_id(id)
    except (ValueError, TypeError) as error:
        raise ValidationError({"id": ["Not a valid ID."]}) from error
    selector = NODE_SELECTORS.get(global_id.type_name)
    if selector is None:
        # Well-formed, of a type `node` does not serve (revisions, audit entries): nothing here.
        raise ObjectDoesNotExist("Not found.")
    try:
        instance = selector(user=current_user(info)).get(pk=global_id.node_id)
    except (ValueError, TypeError, ValidationError) as error:
        raise ValidationError({"id": ["Not a valid ID."]}) from error
    except ObjectDoesNotExist:
        audit_denied_node(info, type_name=global_id.type_name, pk=global_id.node_id)
        raise
    return audit_node_read(info, instance)


node_field = strawberry.field(
    resolver=resolve_node,
    description="Any object by its global ID, if the caller may see it.",
    extensions=guard(IsAuthenticated()),
)
