import strawberry
from strawberry.types import Info

from schema.permissions import IsAuthenticated, current_user, guard
from schema.relay import node_field
from schema.users.types import UserType


@strawberry.type
class UsersQuery:
    @strawberry.field(description="The signed-in user.", extensions=guard(IsAuthenticated()))
    def me(self, info: Info) -> UserType:
        return current_user(info)

    node = node_field
