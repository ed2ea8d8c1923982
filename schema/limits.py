"""What a document may cost before anything runs (DESIGN.md section 6).

`DocumentLimits` checks every document in two cheap passes before graphql-core's own
validation and long before any resolver:

1. parsing: at most `MAX_TOKENS` tokens (graphql-core's parser counts and stops, so a huge
   document is never turned into an AST);
2. a limits-only validation pass: depth, aliases, directives, repeated fields, introspection
   nesting and `first`, with the request's variables at hand.

A document over any limit gets only `QUERY_TOO_COMPLEX` errors: the expensive specified rules
(e.g. OverlappingFieldsCanBeMerged, quadratic in repeated fields) never see it. Then comes
the introspection policy (`__schema`/`__type` for signed-in callers only, unless DEBUG or
GRAPHQL_PUBLIC_INTROSPECTION), for anonymous callers the public operations only
(schema/public_schema.py), and only then the specified rules.
"""

import hashlib
import json
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from graphql import (
    ArgumentNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    validate,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

from schema.errors import ErrorCode
from schema.internals import graphql_schema
from schema.pagination import MAX_PAGE_SIZE, cursor_offset
from schema.public_schema import anonymous_errors

MAX_DEPTH = 10  # graphql-depth-limit's count: root fields are level 0; `edges { node }` costs two
MAX_ALIASES = 15
MAX_TOKENS = 1_000  # comments count too (graphql-core's max_tokens)
MAX_DIRECTIVES = 50
# Not in the design: graphql-cop's "field duplication" probe repeats `__typename` 500 times
# in ~500 tokens, under MAX_TOKENS, and graphql-core's overlap check on one response key is
# quadratic (500 repeats: ~0.4 s of CPU). Counted with fragments flattened, where a client's
# fragments may each ask for `id` and `__typename`, so generous: 20 repeats cost ~2 ms.
MAX_REPEATS_PER_SELECTION = 20
# graphql-js's MaxIntrospectionDepthRule: `fields`/`interfaces`/`possibleTypes`/`inputFields`
# nested 3 times is the "circular introspection" attack; the standard query nests them twice.
MAX_INTROSPECTION_LIST_DEPTH = 3
MAX_BODY_BYTES = 1024 * 1024  # enforced by schema.views (HTTP 413) before parsing

INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # GraphQL's Int is 32 bits
INTROSPECTION_LISTS = frozenset({"fields", "interfaces", "possibleTypes", "inputFields"})
# graphql-core's messages for the parser limits given in `parse_options`.
PARSER_LIMIT_MESSAGES = ("tokens. Parsing aborted.", "comments. Parsing aborted.", "nested too deeply")


def too_complex(error: GraphQLError) -> GraphQLError:
    """Marks an error of the limits pass so that schema.errors reports QUERY_TOO_COMPLEX."""
    error.extensions = {**(error.extensions or {}), "code": ErrorCode.QUERY_TOO_COMPLEX.value}
    return error


class DepthAndAliasRule(ValidationRule):
    """Depth at most MAX_DEPTH per operation, at most MAX_ALIASES aliases in the document.

    Counted as Strawberry's QueryDepthLimiter and MaxAliasesLimiter count (graphql-depth-limit:
    root fields are level 0, leaves and `__` fields add nothing; an alias in a fragment counts
    each time the fragment is spread), but each fragment is measured once. Strawberry 0.327's
    rules walk a fragment again at every spread, so fragments that each spread the next twice
    make them exponential: 18 such fragments took 1.3 s, 25 would take minutes.
    """

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.fragments: dict[str, tuple[int, int]] = {}  # name -> (depth, aliases)
        self.measuring: set[str] = set()  # cycles are NoFragmentCyclesRule's to report
        total_aliases = 0
        for definition in context.document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                total_aliases += self.check(definition)
        if total_aliases > MAX_ALIASES:
            self.report_error(GraphQLError(f"{total_aliases} aliases found. Allowed: {MAX_ALIASES}"))

    def check(self, operation: OperationDefinitionNode) -> int:
        try:
            depth, aliases = self.measure(operation.selection_set)
        except RecursionError:  # nesting only graphql-core's own limits would allow
            depth, aliases = MAX_DEPTH + 1, 0
        if depth > MAX_DEPTH:
            name = operation.name.value if operation.name else "anonymous"
            self.report_error(GraphQLError(f"'{name}' exceeds maximum operation depth of {MAX_DEPTH}", operation))
        return aliases

    def measure(self, selection_set: SelectionSetNode | None) -> tuple[int, int]:
        depth = aliases = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                aliases += selection.alias is not None
                if selection.selection_set and not selection.name.value.startswith("__"):
                    child_depth, child_aliases = self.measure(selection.selection_set)
                    depth, aliases = max(depth, child_depth + 1), aliases + child_aliases
            elif isinstance(selection, InlineFragmentNode):
                child_depth, child_aliases = self.measure(selection.selection_set)
                depth, aliases = max(depth, child_depth), aliases + child_aliases
            elif isinstance(selection, FragmentSpreadNode):
                child_depth, child_aliases = self.fragment(selection.name.value)
                depth, aliases = max(depth, child_depth), aliases + child_aliases
        return depth, aliases

    def fragment(self, name: str) -> tuple[int, int]:
        if name not in self.fragments:
            fragment = self.context.get_fragment(name)
            if fragment is None or name in self.measuring:
                return 0, 0
            self.measuring.add(name)
            self.fragments[name] = self.measure(fragment.selection_set)
            self.measuring.discard(name)
        return self.fragments[name]


class DirectiveCountRule(ValidationRule):
    """At most MAX_DIRECTIVES directives in the document (graphql-cop's directive overloading)."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.count = 0

    def enter_directive(self, node: DirectiveNode, *_args: Any) -> None:
        self.count += 1
        if self.count == MAX_DIRECTIVES + 1:
            self.report_error(GraphQLError(f"More than {MAX_DIRECTIVES} directives.", node))


class RepeatedSelectionRule(ValidationRule):
    """One response key (or fragment spread) at most MAX_REPEATS_PER_SELECTION times per selection set.

    Counted after inline fragments and fragment spreads are flattened into the selection set,
    as graphql-core merges them: `... { a a a a a }` a hundred times is 500 `a`s to compare.
    """

    def enter_selection_set(self, node: SelectionSetNode, *_args: Any) -> None:
        keys: Counter[str] = Counter()
        expanded: set[str] = set()
        pending = list(node.selections)
        while pending:
            selection = pending.pop()
            if isinstance(selection, FieldNode):
                keys[(selection.alias or selection.name).value] += 1
            elif isinstance(selection, InlineFragmentNode):
                pending.extend(selection.selection_set.selections)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                keys[f"...{name}"] += 1
                fragment = self.context.get_fragment(name)
                if fragment is not None and name not in expanded:
                    expanded.add(name)
                    pending.extend(fragment.selection_set.selections)
        repeated = [key for key, count in keys.items() if count > MAX_REPEATS_PER_SELECTION]
        if repeated:
            self.report_error(
                GraphQLError(
                    f"'{repeated[0]}' is selected more than {MAX_REPEATS_PER_SELECTION} times in one selection set.",
                    node,
                )
            )


class IntrospectionDepthRule(ValidationRule):
    """graphql-js's MaxIntrospectionDepthRule: no `fields { type { fields { ... } } }` cycles."""

    def enter_field(self, node: FieldNode, *_args: Any) -> Any:
        if node.name.value in {"__schema", "__type"} and self.too_deep(node):
            self.report_error(GraphQLError("Introspection is nested too deeply.", node))
            return self.SKIP
        return None

    def too_deep(self, root: FieldNode) -> bool:
        # Iterative: the parser allows 200 levels of nesting, too many for recursion here.
        # A fragment entered at a depth already explored adds nothing: each (fragment, depth) is
        # walked once, which also ends cycles and keeps repeated spreads from multiplying.
        explored: set[tuple[str, int]] = set()
        stack: list[tuple[Any, int]] = [(root, 0)]
        while stack:
            node, depth = stack.pop()
            if isinstance(node, FragmentSpreadNode):
                key = (node.name.value, depth)
                fragment = self.context.get_fragment(node.name.value)
                if key not in explored and fragment is not None:
                    explored.add(key)
                    stack.append((fragment, depth))
                continue
            if isinstance(node, FieldNode) and node.name.value in INTROSPECTION_LISTS:
                depth += 1
                if depth >= MAX_INTROSPECTION_LIST_DEPTH:
                    return True
            selection_set = getattr(node, "selection_set", None)
            if selection_set:
                stack.extend((child, depth) for child in selection_set.selections)
        return False


def connection_arguments_rule(variables: Mapping[str, Any] | None) -> type[ValidationRule]:
    """`first` and `after` of every connection, at any depth, written in the document or passed as
    variables (defaults included), checked before anything runs.

    `first` over MAX_PAGE_SIZE is a limit (QUERY_TOO_COMPLEX); a negative `first` or an `after`
    that is not a cursor of this API is bad input (BAD_USER_INPUT, as ForwardConnectionExtension
    answers). The resolver checks them too, but only when it runs: under a list, the optimizer
    prefetches nested connections first and met a negative `first` or an undecodable cursor
    before any check, answering INTERNAL. Values of the wrong type are left to graphql-core's
    coercion.
    """
    variables = variables or {}

    class ConnectionArgumentsRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.defaults: dict[str, Any] = {}

        def enter_operation_definition(self, node, *_args: Any) -> None:
            self.defaults = {
                definition.variable.name.value: definition.default_value
                for definition in node.variable_definitions or ()
                if definition.default_value is not None
            }

        def enter_field(self, node: FieldNode, *_args: Any) -> None:
            for argument in node.arguments or ():
                if argument.name.value == "first":
                    self.check_first(argument)
                elif argument.name.value == "after":
                    self.check_after(argument)

        def check_first(self, argument: ArgumentNode) -> None:
            first = self.value(argument.value)
            if isinstance(first, IntValueNode):
                first = int(first.value)
            if not isinstance(first, int) or isinstance(first, bool) or not INT_MIN <= first <= INT_MAX:
                return  # not an Int at all: graphql-core's coercion answers BAD_USER_INPUT
            if first > MAX_PAGE_SIZE:
                self.report_error(too_complex(GraphQLError(f"'first' may be at most {MAX_PAGE_SIZE}.", argument)))
            elif first < 0:
                self.report_error(bad_input(argument, "first", f"Must be between 0 and {MAX_PAGE_SIZE}."))

        def check_after(self, argument: ArgumentNode) -> None:
            after = self.value(argument.value)
            if isinstance(after, StringValueNode):
                after = after.value
            if isinstance(after, str) and not is_cursor(after):
                self.report_error(bad_input(argument, "after", "Not a valid cursor."))

        def value(self, value: Any) -> Any:
            if isinstance(value, VariableNode):
                name = value.name.value
                return variables[name] if name in variables else self.defaults.get(name)
            return value

    return ConnectionArgumentsRule


def bad_input(node: Any, field: str, message: str) -> GraphQLError:
    """BAD_USER_INPUT naming the argument, as the resolvers' ValidationError would."""
    return GraphQLError("Invalid input.", node, original_error=ValidationError({field: [message]}))


def is_cursor(value: str) -> bool:
    try:
        cursor_offset(value)
    except Exception:  # noqa: BLE001 - anything undecodable is not a cursor
        return False
    return True


def limit_errors(schema: Any, document: DocumentNode, variables: Mapping[str, Any] | None) -> list[GraphQLError]:
    """Every limit the document breaks, as QUERY_TOO_COMPLEX errors (empty when within limits),
    and every connection argument out of range, as BAD_USER_INPUT."""
    rules = [
        DepthAndAliasRule,
        DirectiveCountRule,
        RepeatedSelectionRule,
        IntrospectionDepthRule,
        connection_arguments_rule(variables),
    ]
    # Errors about the input itself (ConnectionArgumentsRule's BAD_USER_INPUT) carry their cause.
    return [
        error if error.original_error is not None else too_complex(error)
        for error in validate(schema, document, rules, max_errors=10)
    ]


def introspection_allowed(request: Any) -> bool:
    if settings.DEBUG or getattr(settings, "GRAPHQL_PUBLIC_INTROSPECTION", False):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def introspection_errors(schema: Any, document: DocumentNode) -> list[GraphQLError]:
    return [
        GraphQLError(
            "Introspection requires authentication.",
            error.nodes,
            extensions={"code": ErrorCode.UNAUTHENTICATED.value},
        )
        for error in validate(schema, document, [NoSchemaIntrospectionCustomRule], max_errors=1)[:1]
    ]


# Documents known to be within the limits, by query text and variables: limit_errors is a pure
# function of them (the document is parsed from the text), so a client's repeated queries are
# checked once per process (issue 7: this pass was a third of Strawberry's cost of `me { id }`).
# Bounded, oldest dropped first; only passes are kept, so every refusal is computed afresh.
WITHIN_LIMITS_CACHE_SIZE = 256
WITHIN_LIMITS_MAX_VARIABLES_CHARS = 1024
_within_limits: OrderedDict[str, None] = OrderedDict()
_within_limits_lock = threading.Lock()


def _within_limits_key(query: str | None, variables: Mapping[str, Any] | None) -> str | None:
    """A digest of the document and its variables: they may carry passwords or PHI, never kept."""
    if not query:
        return None
    try:
        frozen = json.dumps(variables or {}, sort_keys=True)
    except (TypeError, ValueError):
        return None
    if len(frozen) > WITHIN_LIMITS_MAX_VARIABLES_CHARS:
        return None
    return hashlib.sha256(f"{len(query)}:{query}{frozen}".encode()).hexdigest()


def _remember_within_limits(key: str) -> None:
    with _within_limits_lock:
        _within_limits[key] = None
        while len(_within_limits) > WITHIN_LIMITS_CACHE_SIZE:
            _within_limits.popitem(last=False)


class DocumentLimits(SchemaExtension):
    """Refuses documents over the limits before graphql-core's validation and execution."""

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = MAX_TOKENS
        yield

    def on_parse(self) -> Iterator[None]:
        yield
        for error in self.execution_context.pre_execution_errors or ():
            if isinstance(error, GraphQLSyntaxError) and any(
                message in error.message for message in PARSER_LIMIT_MESSAGES
            ):
                too_complex(error)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and context.pre_execution_errors is None:
            full = graphql_schema(context.schema)
            key = _within_limits_key(context.query, context.variables)
            if key is not None and key in _within_limits:
                errors = []
            else:
                errors = limit_errors(full, context.graphql_document, context.variables)
                if not errors and key is not None:
                    _remember_within_limits(key)
            request = getattr(context.context, "request", None)
            if not errors and not introspection_allowed(request):
                # Signed out (and no public introspection): the public operations only (schema/public_schema.py).
                errors = introspection_errors(full, context.graphql_document) or anonymous_errors(
                    full, context.graphql_document, request, context.query
                )
            if errors:
                # Strawberry skips its validation when an extension has already set errors.
                context.pre_execution_errors = errors
        yield
