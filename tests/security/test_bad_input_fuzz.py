"""Bad input is never INTERNAL (DESIGN.md section 6), for every argument of every field at every depth.

The schema is walked in Python: every field argument (and every input-object field) reachable
from Query and Mutation gets a document of its own, reached by the shortest path of fields
(through connections' `edges { node }` and `... on` fragments for interfaces), the argument set
to a bad value, written literally and passed as a variable, sent anonymously and as a patient, a
doctor and staff. Every answer must be a contract code, and none INTERNAL.
"""

import json
from collections import deque
from dataclasses import dataclass

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    get_named_type,
    is_leaf_type,
    print_type,
)

from schema import schema
from schema.errors import ErrorCode
from schema.internals import graphql_schema
from tests.conftest import access_token, global_id

GRAPHQL_SCHEMA = graphql_schema(schema)
CONTRACT_CODES = {code.value for code in ErrorCode} - {ErrorCode.INTERNAL.value}
HUGE = "x" * 20_000  # twice the longest text any field accepts (an annotation, 10,000)
BAD_VALUES = {
    "lone surrogate": "\ud800",
    "NUL": "a\x00b",
    "minus one": -1,
    "2**31": 2**31,
    "1e308": 1e308,
    "huge string": HUGE,
}


@dataclass(frozen=True)
class Target:
    """One argument (or a field of its input object) and the path of fields that reaches it."""

    path: tuple[tuple[str, str], ...]  # (field name, type condition or "") from the root
    operation: str  # "query" or "mutation"
    field: str
    argument: str
    input_path: tuple[str, ...]  # input-object fields below the argument, outermost first

    @property
    def label(self) -> str:
        return ".".join([self.operation, *(name for name, _ in self.path), self.field, self.argument, *self.input_path])


def type_literal(type_) -> str:
    if isinstance(type_, GraphQLNonNull):
        return type_literal(type_.of_type) + "!"
    if isinstance(type_, GraphQLList):
        return f"[{type_literal(type_.of_type)}]"
    return type_.name


def object_paths(root: GraphQLObjectType) -> dict[tuple[str, bool], tuple[tuple[str, str], ...]]:
    """Two paths from `root` to every object type reachable from it: the shortest, and the
    shortest under a list (a connection's `edges`), where the optimizer prefetches nested fields."""
    paths: dict[tuple[str, bool], tuple[tuple[str, str], ...]] = {(root.name, False): ()}
    queue = deque([(root, False)])
    while queue:
        current, under_list = queue.popleft()
        for name, field in current.fields.items():
            named = get_named_type(field.type)
            reached: list[tuple[GraphQLObjectType, str]] = []
            if isinstance(named, GraphQLObjectType):
                reached.append((named, ""))
            elif isinstance(named, GraphQLInterfaceType):
                reached.extend((possible, possible.name) for possible in GRAPHQL_SCHEMA.get_possible_types(named))
            for object_type, condition in reached:
                key = (object_type.name, under_list or name == "edges")
                if key not in paths:
                    paths[key] = (*paths[(current.name, under_list)], (name, condition))
                    queue.append((object_type, key[1]))
    return paths


def input_paths(type_, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The argument itself and every field of its input object, at any depth."""
    named = get_named_type(type_)
    found = [prefix]
    if isinstance(named, GraphQLInputObjectType):
        for name, field in named.fields.items():
            found.extend(input_paths(field.type, (*prefix, name)))
    return found


def targets() -> list[Target]:
    found = []
    # Mutations' own arguments; what their payloads share with queries is walked from Query.
    walks = [("query", path) for path in object_paths(GRAPHQL_SCHEMA.query_type).values()] + [("mutation", ())]
    for operation, path in walks:
        parent = walked_type(operation, path)
        for field_name, field in parent.fields.items():
            for argument_name, argument in field.args.items():
                for input_path in input_paths(argument.type):
                    found.append(Target(path, operation, field_name, argument_name, input_path))
    return found


def walked_type(operation: str, path: tuple[tuple[str, str], ...]) -> GraphQLObjectType:
    parent = GRAPHQL_SCHEMA.query_type if operation == "query" else GRAPHQL_SCHEMA.mutation_type
    for name, condition in path:
        parent = GRAPHQL_SCHEMA.type_map[condition] if condition else get_named_type(parent.fields[name].type)
    return parent


def every_argument_in_the_schema() -> set[str]:
    """`Type.field(argument)` and `Input.field` for every object and input type, independently of the walk."""
    expected = set()
    for type_ in GRAPHQL_SCHEMA.type_map.values():
        if type_.name.startswith("__"):
            continue
        if isinstance(type_, GraphQLObjectType):
            for field, value in type_.fields.items():
                expected.update(f"{type_.name}.{field}({arg})" for arg in value.args)
        elif isinstance(type_, GraphQLInputObjectType):
            expected.update(f"{type_.name}.{field}" for field in type_.fields)
    return expected


def walked_names(target: Target) -> set[str]:
    """What a target exercises, named as every_argument_in_the_schema names it."""
    parent = walked_type(target.operation, target.path)
    argument = parent.fields[target.field].args[target.argument]
    names = {f"{parent.name}.{target.field}({target.argument})"}
    input_type = get_named_type(argument.type)
    for name in target.input_path:
        names.add(f"{input_type.name}.{name}")
        input_type = get_named_type(input_type.fields[name].type)
    return names


# --- documents ------------------------------------------------------------------------------------


def plausible(type_, name: str, ids: dict[str, str]):
    """A value that passes coercion, so that the bad one beside it is what gets judged."""
    named = get_named_type(type_)
    if isinstance(named, GraphQLInputObjectType):
        return {
            field_name: plausible(field.type, f"{named.name}.{field_name}", ids)
            for field_name, field in named.fields.items()
            if isinstance(field.type, GraphQLNonNull)
        }
    if isinstance(named, GraphQLEnumType):
        return next(iter(named.values))
    id_value = ids.get(name) or ids.get(name.rsplit(".", 1)[-1]) or ids["id"]
    value = {"ID": id_value, "Int": 1, "Float": 1.0, "Boolean": True}.get(named.name, "x")
    return [value] if isinstance(getattr(type_, "of_type", type_), GraphQLList) else value


def literal(value, type_) -> str:
    """`value` written as a GraphQL literal of `type_` (JSON's escapes are GraphQL's too)."""
    named = get_named_type(type_)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {literal(item, named.fields[key].type)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(literal(item, type_) for item in value) + "]"
    if isinstance(named, GraphQLEnumType) and isinstance(value, str) and value in named.values:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return json.dumps(value)


def with_bad_value(argument_type, input_path: tuple[str, ...], bad, ids: dict[str, str], name: str):
    if not input_path:
        return bad
    named = get_named_type(argument_type)
    value = plausible(argument_type, name, ids)
    value = value if isinstance(value, dict) else {}
    head, *rest = input_path
    value[head] = with_bad_value(named.fields[head].type, tuple(rest), bad, ids, f"{named.name}.{head}")
    return value


def selection(type_) -> str:
    return "" if is_leaf_type(get_named_type(type_)) else "{ __typename }"


def document(target: Target, bad, ids: dict[str, str], as_variable: bool) -> tuple[str, dict]:
    parent = GRAPHQL_SCHEMA.query_type if target.operation == "query" else GRAPHQL_SCHEMA.mutation_type
    opening, closing = [], []
    for name, condition in target.path:
        field_type = parent.fields[name].type
        args = ", ".join(
            f"{arg}: {literal(plausible(value.type, arg, ids), value.type)}"
            for arg, value in parent.fields[name].args.items()
            if isinstance(value.type, GraphQLNonNull)
        )
        opening.append(f"{name}{f'({args})' if args else ''} {{ __typename")
        closing.append("}")
        if condition:
            opening.append(f"... on {condition} {{")
            closing.append("}")
            parent = GRAPHQL_SCHEMA.type_map[condition]
        else:
            parent = get_named_type(field_type)
    field = parent.fields[target.field]
    argument = field.args[target.argument]
    value = with_bad_value(argument.type, target.input_path, bad, ids, target.argument)
    arguments = [
        f"{name}: {literal(plausible(arg.type, name, ids), arg.type)}"
        for name, arg in field.args.items()
        if name != target.argument and isinstance(arg.type, GraphQLNonNull)
    ]
    variables: dict = {}
    if as_variable:
        arguments.append(f"{target.argument}: $bad")
        variables = {"bad": value}
        header = f"{target.operation} ($bad: {type_literal(argument.type)})"
    else:
        arguments.append(f"{target.argument}: {literal(value, argument.type)}")
        header = target.operation
    leaf = f"{target.field}({', '.join(arguments)}) {selection(field.type)}"
    return f"{header} {{ {' '.join(opening)} {leaf} {' '.join(closing)} }}", variables


# --- the test -----------------------------------------------------------------------------------


def test_the_walk_reaches_every_argument_of_the_schema_at_every_depth():
    # when the schema is walked
    walked = [target for target in targets()]
    reached = set().union(*(walked_names(target) for target in walked))
    # then every argument and input field of the schema is among the targets, nested ones included
    assert len(walked) > 0
    assert every_argument_in_the_schema() <= reached
    labels = {target.label for target in walked}
    assert "query.patients.edges.node.healthRecord.annotations.first" in labels
    assert "query.patients.edges.node.healthRecord.annotations.after" in labels
    assert print_type(GRAPHQL_SCHEMA.type_map["HealthRecord"])  # the nested connection is the schema's


CALLERS = {"anonymous": None, "patient": "alice", "doctor": "grey", "staff": "coordinator"}


@pytest.fixture(params=CALLERS)
def caller_token(request, world):
    name = CALLERS[request.param]
    if name is None:
        return None
    member = getattr(world, name)
    return access_token(getattr(member, "user", member))


@pytest.fixture
def ids(world):
    from care.models import Assignment
    from records.services import annotation_add

    note = annotation_add(actor=world.grey.user, record=world.alice.health_record, body="A note.")
    assignment = Assignment.objects.filter(doctor=world.grey, patient=world.alice, ended_at__isnull=True).get()
    return {
        "id": global_id("HealthRecord", world.alice.health_record.pk),
        "recordId": global_id("HealthRecord", world.alice.health_record.pk),
        "patientId": global_id("Patient", world.alice.pk),
        "doctorId": global_id("Doctor", world.house.pk),
        "RetractAnnotationInput.id": global_id("Annotation", note.pk),
        "EndAssignmentInput.id": global_id("Assignment", assignment.pk),
        "RevokeSessionInput.id": global_id("Session", "00000000-0000-4000-8000-000000000000"),
    }


def test_bad_values_in_any_argument_are_never_internal(client, world, caller_token, ids):
    # given every argument of the schema, every bad value, written in the document or as a variable
    extra = {"HTTP_AUTHORIZATION": f"Bearer {caller_token}"} if caller_token else {}
    failures, answers = [], 0
    for target in targets():
        for value_name, bad in BAD_VALUES.items():
            for as_variable in (False, True):
                query, variables = document(target, bad, ids, as_variable)
                # when
                response = client.post(
                    "/graphql/",
                    data=json.dumps({"query": query, "variables": variables}),
                    content_type="application/json",
                    **extra,
                )
                answers += 1
                # then a contract code, never INTERNAL, never a 5xx
                codes = [error.get("extensions", {}).get("code") for error in response.json().get("errors") or []]
                if response.status_code >= 500 or any(code not in CONTRACT_CODES for code in codes):
                    how = "variable" if as_variable else "literal"
                    failures.append(f"{target.label} = {value_name} ({how}): {response.status_code} {codes}")
    assert answers == len(targets()) * len(BAD_VALUES) * 2
    assert failures == []
