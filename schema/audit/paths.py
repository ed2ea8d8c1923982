"""Every path to PHI goes through an audited access path: the rule the schema-walk test enforces.

A field is a *path to PHI* when its type (unwrapped through lists, non-null, connections and
their edges, and interfaces to their implementations) is a PHI type: a GraphQL type over a model
the domain classifies as PHI (records.phi) or as a patient's demographics (users.phi). Each such
field is covered by exactly one of:

1. its resolver calls one of the read-audit hooks of schema.audit.reads, `audit_*_read` (a
   reference to the hook itself in the resolver's code, not a name that happens to match; an
   access function that audits only refusals does not count: what the field hands out must be);
2. it carries a read-audit field extension (a connection audits the page it hands out);
3. it is part of its PHI parent per the domain: a relation the domain lists as the record's
   content (audited with the record) or as not PHI of the record (its readers may see it anyway);
4. it is listed in ACCOUNTS_NEVER_A_PATIENTS_DATA below, with the reason.

Anything else is reported: a new `Doctor.annotations` would be filtered in SQL but unaudited.
The walk reads graphql-core's public type API and Strawberry's back-reference to each field.
"""

import inspect
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from graphql import GraphQLField, GraphQLObjectType, GraphQLSchema, get_named_type, is_abstract_type, is_object_type

from records.phi import NOT_PHI, RECORD_CONTENT
from schema.audit import reads
from schema.audit.phi import is_phi_type, model_attribute, model_of
from schema.internals import strawberry_definition

# Fields of a PHI type that hand out User accounts which are never another patient's: the
# caller's own (a patient's own name is not audited), or the staff member who made an assignment.
ACCOUNTS_NEVER_A_PATIENTS_DATA = {
    "Query.me": "the caller's own account",
    "TokenAuthPayload.user": "the account that just logged in",
    "RegisterAccountPayload.user": "the account staff just registered: the fields they sent, echoed back",
    "Assignment.assignedBy": "assignments are made by staff; a patient never assigns",
}


@dataclass(frozen=True)
class PhiPath:
    parent: str
    field: str
    targets: tuple[str, ...]
    covered_by: str | None  # None: not audited

    @property
    def name(self) -> str:
        return f"{self.parent}.{self.field}"


def audit_hooks() -> tuple[Callable, ...]:
    """The hooks that note a read of what a resolver hands out."""
    return tuple(
        getattr(reads, name)
        for name in sorted(dir(reads))
        if name.startswith("audit_") and name.endswith("_read") and inspect.isfunction(getattr(reads, name))
    )


def _is_connection(graphql_type) -> bool:
    return is_object_type(graphql_type) and {"edges", "pageInfo"} <= set(graphql_type.fields)


def _targets(schema: GraphQLSchema, field: GraphQLField) -> list[GraphQLObjectType]:
    named = get_named_type(field.type)
    if _is_connection(named):
        edge = get_named_type(named.fields["edges"].type)
        named = get_named_type(edge.fields["node"].type)
    if is_abstract_type(named):
        return list(schema.get_possible_types(named))
    return [named] if is_object_type(named) else []


def _strawberry_field(field: GraphQLField):
    return strawberry_definition(field)


def _code_references(function: Callable, hooks: tuple[Callable, ...]) -> str | None:
    function = inspect.unwrap(function)
    codes = [function.__code__]
    while codes:
        code = codes.pop()
        for name in code.co_names:
            if any(function.__globals__.get(name) is hook for hook in hooks):
                return name
        codes += [const for const in code.co_consts if isinstance(const, types.CodeType)]
    return None


def _coverage(parent_type, parent_name: str, field_name: str, field: GraphQLField, hooks) -> str | None:
    definition = _strawberry_field(field)
    resolver = getattr(getattr(definition, "base_resolver", None), "wrapped_func", None)
    if resolver is not None and (hook := _code_references(resolver, hooks)):
        return f"calls {hook}"
    for extension in getattr(definition, "extensions", ()):
        if type(extension).__module__ == reads.__name__:
            return f"extension {type(extension).__name__}"
    parent_model = model_of(parent_type)
    model_name = model_attribute(field, field_name, parent_model)
    if parent_model in NOT_PHI:
        if model_name in RECORD_CONTENT:
            return f"content of {parent_model.__name__} (records.phi.RECORD_CONTENT)"
        if model_name in NOT_PHI[parent_model]:
            return f"not PHI of {parent_model.__name__} (records.phi.NOT_PHI)"
    if f"{parent_name}.{field_name}" in ACCOUNTS_NEVER_A_PATIENTS_DATA:
        return "account never a patient's data"
    return None


def phi_paths(schema: GraphQLSchema) -> Iterator[PhiPath]:
    """Every field reachable from the roots that leads to a PHI type, with what audits it."""
    hooks = audit_hooks()
    roots = [root for root in (schema.query_type, schema.mutation_type) if root is not None]
    seen, queue = {root.name for root in roots}, list(roots)
    while queue:
        parent = queue.pop(0)
        for field_name, field in parent.fields.items():
            targets = _targets(schema, field)
            phi_targets = tuple(sorted(t.name for t in targets if is_phi_type(t)))
            if phi_targets:
                yield PhiPath(
                    parent=parent.name,
                    field=field_name,
                    targets=phi_targets,
                    covered_by=_coverage(parent, parent.name, field_name, field, hooks),
                )
            for target in targets:
                if target.name not in seen:
                    seen.add(target.name)
                    queue.append(target)


def unaudited_phi_paths(schema: GraphQLSchema) -> list[str]:
    return sorted(path.name for path in phi_paths(schema) if path.covered_by is None)
