import strawberry
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from strawberry import relay
from strawberry.types import Info

from care.selectors import assignments_visible_to, doctors_visible_to, patients_visible_to
from records.selectors import annotations_visible_to, records_visible_to
from schema.audit.reads import audit_denied_node, audit_node_read
from schema.permissions import IsAuthenticated, current_user, guard
from schema.users.types import UserType
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
    "Session": sessions_live_for,
}


@strawberry.type
class UsersQuery:
    @strawberry.field(description="The signed-in user.", extensions=guard(IsAuthenticated()))
    def me(self, info: Info) -> UserType:
        return current_user(info)

    @strawberry.field(
        description="Any object by its global ID, if the caller may see it.", extensions=guard(IsAuthenticated())
    )
    def node(self, info: Info, id: strawberry.ID) -> relay.Node | None:
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
