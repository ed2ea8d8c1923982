"""What a caller who has not signed in may learn of the schema: the public operations, nothing else.

graphql-core's validation messages name the schema's types and fields ("Field 'patients' of
type 'PatientConnection!' must have a selection of subfields", "Fragment cannot be spread
here as objects of type 'Query' can never be of type 'Doctor'"), and whether a document
validates or fails at execution tells a guessed name from a real one. A schema-recovery tool
(clairvoyance) rebuilt 17 fields of 15 types from them in 7 minutes, anonymously, with
introspection and suggestions off. So an anonymous document (while anonymous introspection is
off) is checked, before the full schema sees it, against a public schema that holds only the
public root fields and, under them, the leaf fields of their payloads and of the signed-in
`User` (DESIGN.md section 6):

1. any other root field, existing or not, answers UNAUTHENTICATED (or the token's own error)
   without naming it: the access table's answer for a private operation;
2. any other error comes from validating against the public schema, so whether a document
   passes depends on public names only; a message quoting a name the public schema does not
   hold (the caller's own guess, echoed back) is replaced with one generic message.

Valid public documents are valid in the full schema too (same names, same types, fewer
fields), and then run as usual.
"""

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from functools import cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
    specified_rules,
    validate,
)

from users.errors import NotAuthenticated

# The operations of someone who has not signed in yet: sign in, refresh, sign out, and the
# account links of users.invitations and users.password_reset.
PUBLIC_ROOT_FIELDS = {
    "query": frozenset(),
    "mutation": frozenset(
        {
            "tokenAuth",
            "refreshToken",
            "revokeToken",
            "acceptInvitation",
            "requestPasswordReset",
            "resetPassword",
            "verifyMfa",
        }
    ),
}
# Object types a public payload may nest (their leaf fields only): who signed in.
PUBLIC_NESTED_TYPES = frozenset({"User"})
GENERIC_MESSAGE = (
    "This document is not valid for a caller who has not signed in: only tokenAuth, refreshToken, "
    "revokeToken, verifyMfa, acceptInvitation, requestPasswordReset and resetPassword are available, "
    "with the fields of their answers."
)
SIGN_IN_FIRST = "Authentication required."
QUOTED = re.compile(r"'([^']*)'")
NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")


def _wrapped(type_: Any, named: Any) -> Any:
    """`type_`'s list and non-null wrappers around `named`."""
    if isinstance(type_, GraphQLNonNull):
        return GraphQLNonNull(_wrapped(type_.of_type, named))
    if isinstance(type_, GraphQLList):
        return GraphQLList(_wrapped(type_.of_type, named))
    return named


class _PublicTypes:
    def __init__(self) -> None:
        self.objects: dict[str, GraphQLObjectType] = {}

    def field(self, field: GraphQLField, *, nested: bool) -> GraphQLField | None:
        named = get_named_type(field.type)
        if is_leaf_type(named):
            public = named
        elif isinstance(named, GraphQLObjectType) and (not nested or named.name in PUBLIC_NESTED_TYPES):
            public = self.object(named)
        else:
            return None  # interfaces, unions and other objects stay private
        return GraphQLField(_wrapped(field.type, public), args=field.args, deprecation_reason=field.deprecation_reason)

    def object(self, type_: GraphQLObjectType) -> GraphQLObjectType:
        if type_.name not in self.objects:
            fields = {}
            # Built before its fields, so that a cycle ends here; then filled in.
            self.objects[type_.name] = GraphQLObjectType(type_.name, lambda: fields)
            for name, field in type_.fields.items():
                public = self.field(field, nested=True)
                if public is not None:
                    fields[name] = public
        return self.objects[type_.name]


@cache
def public_schema(full: GraphQLSchema) -> GraphQLSchema:
    """The public root fields of `full` and what their answers may select, for validation only."""
    types = _PublicTypes()
    roots = {}
    for operation, root in (("query", full.query_type), ("mutation", full.mutation_type)):
        fields = {name: types.field(root.fields[name], nested=False) for name in sorted(PUBLIC_ROOT_FIELDS[operation])}
        roots[operation] = GraphQLObjectType(root.name, {name: field for name, field in fields.items() if field})
    # A Query without fields is not a valid schema for execution, but validation needs only its
    # `__typename` (assume_valid: graphql-core's public switch for skipping the schema check).
    return GraphQLSchema(
        query=roots["query"], mutation=roots["mutation"], directives=full.directives, assume_valid=True
    )


@cache
def public_vocabulary(full: GraphQLSchema) -> frozenset[str]:
    """Every name the public schema holds (types, fields, arguments, enum values, directives)."""
    schema = public_schema(full)
    names = {directive.name for directive in schema.directives}
    for directive in schema.directives:
        names.update(directive.args)
    for type_ in schema.type_map.values():
        names.add(type_.name)
        for name, field in getattr(type_, "fields", {}).items():
            names.add(name)
            names.update(getattr(field, "args", {}))
        names.update(getattr(type_, "values", {}))
    return frozenset(names)


def _root_fields(document: DocumentNode) -> Iterator[tuple[str, FieldNode]]:
    """(operation type, field) for every root field of every operation, fragments expanded."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        operation = definition.operation.value
        expanded: set[str] = set()
        pending: list[SelectionSetNode] = [definition.selection_set]
        while pending:
            for selection in pending.pop().selections:
                if isinstance(selection, FieldNode):
                    yield operation, selection
                elif isinstance(selection, InlineFragmentNode):
                    pending.append(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    if name not in expanded and name in fragments:
                        expanded.add(name)
                        pending.append(fragments[name].selection_set)


def _names_only_public(message: str, vocabulary: frozenset[str]) -> bool:
    return all(name in vocabulary for quoted in QUOTED.findall(message) for name in NAME.findall(quoted))


# Documents that passed, by a digest of their text (which may quote a password): a client's
# login is checked once per process. Bounded, oldest dropped first; refusals are computed afresh.
PASSED_CACHE_SIZE = 256
_passed: OrderedDict[str, None] = OrderedDict()
_passed_lock = threading.Lock()


def anonymous_errors(
    full: GraphQLSchema, document: DocumentNode, request: Any, query: str | None = None
) -> list[GraphQLError]:
    """Errors for a document from a caller who has not signed in, naming nothing private."""
    key = hashlib.sha256(query.encode()).hexdigest() if query else None
    if key is not None and key in _passed:
        return []
    for operation, field in _root_fields(document):
        if field.name.value != "__typename" and field.name.value not in PUBLIC_ROOT_FIELDS.get(operation, ()):
            # What the field's permission would have answered, without saying whether it exists.
            refusal = getattr(request, "token_error", None) or NotAuthenticated(SIGN_IN_FIRST)
            return [GraphQLError(str(refusal), original_error=refusal)]
    vocabulary = public_vocabulary(full)
    errors = [
        error if _names_only_public(error.message, vocabulary) else GraphQLError(GENERIC_MESSAGE, error.nodes)
        for error in validate(public_schema(full), document, specified_rules, max_errors=10)
    ]
    if not errors and key is not None:
        with _passed_lock:
            _passed[key] = None
            while len(_passed) > PASSED_CACHE_SIZE:
                _passed.popitem(last=False)
    return errors
