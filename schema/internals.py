"""The few private Strawberry and strawberry-django symbols schema/ needs outside the fast path.

STYLE.md rule 9: the speed-ups that reach into internals live in schema/fastpath/, behind
GRAPHQL_FAST_PATH and a version guard; everything else uses public APIs, and what has no public
API yet goes through this module alone, so an upgrade that moves one of these breaks here and
nowhere else. tests/schema/test_private_symbols.py fails if any other module in schema/ (outside
schema/fastpath/) reaches for them. Each one, and why there is no public way:

- `strawberry.Schema._schema`: the graphql-core schema Strawberry builds. Strawberry 0.327
  has no public accessor (only `as_str()`, which loses the resolvers and the extensions the PHI
  walk reads); the document limits, persisted documents, the public schema and the credential
  mutation list validate and walk against it.
- `strawberry.Info._raw_info`: graphql-core's `GraphQLResolveInfo` (itself public). Strawberry's
  `Info` exposes `selected_fields` but not `field_nodes`, `fragments` or `parent_type`, which
  schema/selection.py's walk needs to read a selection exactly as graphql-core applies it.
- `strawberry_django.fields.field.StrawberryDjangoConnectionExtension`: the extension
  `strawberry_django.connection()` installs; not exported, but the forward-only pagination
  must subclass it (the optimizer checks `isinstance` against it to plan its prefetch).
- `strawberry_django.utils.typing.get_django_definition`: which model a type is declared over;
  not exported, and the PHI classification of a GraphQL type starts from its model.
- the `"strawberry-definition"` key of a graphql-core type's or field's `extensions`: the
  back-reference Strawberry's schema converter leaves, the only way from a graphql-core field to
  the Python field (and its django_name) it came from.
"""

from typing import Any

from graphql import GraphQLResolveInfo, GraphQLSchema
from strawberry_django.fields.field import StrawberryDjangoConnectionExtension
from strawberry_django.utils.typing import get_django_definition

__all__ = [
    "StrawberryDjangoConnectionExtension",
    "django_model_of",
    "graphql_schema",
    "resolve_info",
    "strawberry_definition",
]

STRAWBERRY_DEFINITION = "strawberry-definition"


def graphql_schema(strawberry_schema: Any) -> GraphQLSchema:
    """The graphql-core schema a `strawberry.Schema` built."""
    return strawberry_schema._schema


def resolve_info(info: Any) -> GraphQLResolveInfo:
    """graphql-core's resolve info behind a Strawberry `Info` (or the graphql-core one itself)."""
    return getattr(info, "_raw_info", info)


def strawberry_definition(graphql_type_or_field: Any) -> Any:
    """The Strawberry type or field a graphql-core type or field was converted from, if any."""
    return (getattr(graphql_type_or_field, "extensions", None) or {}).get(STRAWBERRY_DEFINITION)


def django_model_of(origin: Any) -> Any:
    """The Django model a strawberry-django type (its Python class) is declared over, if any."""
    definition = get_django_definition(origin)
    return getattr(definition, "model", None)
