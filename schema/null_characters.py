"""Refuse NUL characters in any input string before anything runs.

PostgreSQL text cannot hold U+0000: psycopg raises on the first query that carries one, so a
NUL in a record field, an annotation, a login name or a search term would surface as an
INTERNAL error (and on SQLite it would be stored). No input of this API has a use for it, so
one check at the edge answers BAD_USER_INPUT naming the field, for every field at once.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from graphql import ArgumentNode, DocumentNode, GraphQLError, ObjectFieldNode, StringValueNode, Visitor, visit
from strawberry.extensions import SchemaExtension

NUL = "\x00"
MESSAGE = "Null characters are not allowed."


def _fields_in_variables(value: Any, name: str) -> Iterator[str]:
    if isinstance(value, str):
        if NUL in value:
            yield name
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if NUL in str(key):
                yield name
            else:
                yield from _fields_in_variables(item, str(key))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _fields_in_variables(item, name)


class _LiteralFinder(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.fields: list[str] = []

    def enter_string_value(self, node: StringValueNode, key, parent, path, ancestors) -> None:
        if NUL in node.value:
            # graphql-core leaves the direct parent out of `ancestors`.
            named = [a for a in (*ancestors, parent) if isinstance(a, ArgumentNode | ObjectFieldNode)]
            self.fields.append(named[-1].name.value if named else "query")


def _text_may_hold_null(query: str | None) -> bool:
    # A literal's NUL is in the text raw or escaped (\u0000; graphql-core 3.2 has no other form):
    # without either, the document walk cannot find one (issue 7: the walk ran on every request).
    return query is None or NUL in query or "\\u0000" in query


def fields_with_null_characters(
    document: DocumentNode | None, variables: Mapping | None, query: str | None = None
) -> list[str]:
    """The input fields (GraphQL names) whose strings hold a NUL, in variables or literals."""
    fields = list(_fields_in_variables(variables or {}, "variables"))
    if document is not None and _text_may_hold_null(query):
        finder = _LiteralFinder()
        visit(document, finder)
        fields.extend(finder.fields)
    return list(dict.fromkeys(fields))


class RejectNullCharacters(SchemaExtension):
    """BAD_USER_INPUT for any NUL in the request's strings (list it before DocumentCache)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if not context.pre_execution_errors:
            fields = fields_with_null_characters(context.graphql_document, context.variables, context.query)
            if fields:
                error = ValidationError({field: [MESSAGE] for field in fields})
                context.pre_execution_errors = [GraphQLError("Invalid input.", original_error=error)]
        yield
