"""Which fields a GraphQL selection asks for, through graphql-core's public API only.

graphql-core's own `collect_sub_fields` (graphql.execution.collect_fields) is private and gone
in 3.3; schema/audit/reads.py needs the same answer to know which fields of a PHI type a
response carries. This walk takes only what a resolve info exposes (`field_nodes`, `fragments`,
`variable_values`, the schema) and the public `get_directive_values`, so it reads the same on
graphql-core 3.2 and 3.3. tests/schema/test_selection.py compares it with the private one.
"""

from collections.abc import Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    SelectionSetNode,
    is_abstract_type,
    type_from_ast,
)
from graphql.execution import get_directive_values


def collect_sub_fields(
    schema: GraphQLSchema,
    fragments: Mapping[str, FragmentDefinitionNode],
    variable_values: Mapping[str, Any],
    return_type: GraphQLObjectType,
    field_nodes: list[FieldNode],
) -> dict[str, list[FieldNode]]:
    """The fields selected under `field_nodes` on `return_type`, by response key (alias or name).

    As graphql-core's: fragments (spread and inline) whose type condition `return_type` meets are
    merged in, each named fragment once, and @skip / @include are applied with the variables.
    """
    fields: dict[str, list[FieldNode]] = {}
    visited: set[str] = set()
    for node in field_nodes:
        if node.selection_set:
            _collect(schema, fragments, variable_values, return_type, node.selection_set, fields, visited)
    return fields


def _collect(schema, fragments, variable_values, object_type, selection_set: SelectionSetNode, fields, visited) -> None:
    for selection in selection_set.selections:
        if not _included(selection, variable_values):
            continue
        if isinstance(selection, FieldNode):
            key = selection.alias.value if selection.alias else selection.name.value
            fields.setdefault(key, []).append(selection)
        elif isinstance(selection, InlineFragmentNode):
            if _condition_matches(schema, selection.type_condition, object_type):
                _collect(schema, fragments, variable_values, object_type, selection.selection_set, fields, visited)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in visited:
                continue
            visited.add(name)
            fragment = fragments.get(name)
            if fragment is None or not _condition_matches(schema, fragment.type_condition, object_type):
                continue
            _collect(schema, fragments, variable_values, object_type, fragment.selection_set, fields, visited)


def _included(node: Any, variable_values: Mapping[str, Any]) -> bool:
    skip = get_directive_values(GraphQLSkipDirective, node, variable_values)
    if skip and skip["if"]:
        return False  # @skip wins over @include, as the spec has it
    include = get_directive_values(GraphQLIncludeDirective, node, variable_values)
    return not (include and not include["if"])


def _condition_matches(schema: GraphQLSchema, type_condition: Any, object_type: GraphQLObjectType) -> bool:
    if type_condition is None:
        return True
    conditional_type = type_from_ast(schema, type_condition)
    if conditional_type is object_type:
        return True
    if is_abstract_type(conditional_type):
        return schema.is_sub_type(conditional_type, object_type)
    return False
