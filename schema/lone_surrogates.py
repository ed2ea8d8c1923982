"""Refuse lone surrogates (invalid Unicode) in a request's text before anything reads it.

JSON may escape a UTF-16 surrogate on its own (`"\\ud800"`, RFC 8259 section 8.2 leaves what to
do with it to the reader), and Python's json decodes it into a `str` that no UTF-8 encoder
accepts: hashing the query text for the document caches, quoting it in a syntax error, or
sending a variable to the database each raised UnicodeEncodeError, answered as INTERNAL. No
input of this API can mean anything by one, so one check before parsing answers
BAD_USER_INPUT naming where it was, for the query text, the operation name and every variable
(any depth, keys included).
"""

from collections.abc import Iterator, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

MESSAGE = "Invalid Unicode: a lone surrogate (U+D800 to U+DFFF) is not a character."


def holds_lone_surrogate(text: str) -> bool:
    if text.isascii():  # nearly every request: no encoding at all
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _fields_in_variables(value: Any, name: str) -> Iterator[str]:
    if isinstance(value, str):
        if holds_lone_surrogate(value):
            yield name
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if holds_lone_surrogate(str(key)):
                yield name  # the key itself is not fit to quote
            else:
                yield from _fields_in_variables(item, str(key))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _fields_in_variables(item, name)


def fields_with_lone_surrogates(query: str | None, operation_name: Any, variables: Any) -> list[str]:
    """Where the request's text holds a lone surrogate: "query", "operationName" or input field names."""
    fields = []
    if isinstance(query, str) and holds_lone_surrogate(query):
        fields.append("query")
    if isinstance(operation_name, str) and holds_lone_surrogate(operation_name):
        fields.append("operationName")
    fields.extend(_fields_in_variables(variables or {}, "variables"))
    return list(dict.fromkeys(fields))


class RejectLoneSurrogates(SchemaExtension):
    """BAD_USER_INPUT for a lone surrogate anywhere in the request (list it before DocumentCache).

    Raised before parsing: the document caches hash the text as UTF-8 in their parse hook.
    Strawberry reports a GraphQLError raised by an operation hook as the operation's only error.
    """

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        fields = fields_with_lone_surrogates(context.query, context.operation_name, context.variables)
        if fields:
            raise GraphQLError("Invalid input.", original_error=ValidationError({field: [MESSAGE] for field in fields}))
        yield
