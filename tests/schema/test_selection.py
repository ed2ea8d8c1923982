"""schema/selection.collect_sub_fields answers like graphql-core 3.2's private one.

Differential: for documents with fragments, inline fragments (on the object, on an interface,
on another type), aliases, repeated fields and @skip/@include with literals and variables, the
public-API walk and graphql-core's own `collect_sub_fields` must return the same response keys
with the same field nodes. The private function is imported here only, to compare against.
"""

import pytest
from graphql import build_schema, parse

from schema.selection import collect_sub_fields

private = pytest.importorskip(
    "graphql.execution.collect_fields", reason="graphql-core without the private collect_sub_fields to compare with"
)

SCHEMA = build_schema(
    """
    interface Node { id: ID! }
    type Patient implements Node { id: ID! fullName: String dateOfBirth: String record: Record }
    type Record implements Node { id: ID! allergies: String medications: String }
    type Doctor implements Node { id: ID! specialty: String }
    union Anyone = Patient | Doctor
    type Query { patient: Patient node: Node }
    """
)

FRAGMENTS = """
fragment Names on Patient { fullName alias: dateOfBirth }
fragment OnNode on Node { id }
fragment OnDoctor on Doctor { specialty }
fragment OnAnyone on Anyone { ... on Patient { record { id } } }
fragment Nested on Patient { ...Names ...Names record { allergies } }
"""

DOCUMENTS = {
    "plain": "{ patient { id fullName } }",
    "aliases": "{ patient { a: fullName b: fullName fullName } }",
    "repeated": "{ patient { fullName fullName record { id } record { allergies } } }",
    "named fragments": "{ patient { ...Names ...OnNode } }",
    "fragment on another type": "{ patient { id ...OnDoctor } }",
    "fragment on a union": "{ patient { ...OnAnyone } }",
    "nested and repeated fragments": "{ patient { ...Nested ...Names } }",
    "inline fragments": "{ patient { ... { fullName } ... on Patient { dateOfBirth } ... on Node { id } } }",
    "inline on another type": "{ patient { ... on Doctor { specialty } fullName } }",
    "skip and include literals": "{ patient { "
    "fullName @skip(if: true) dateOfBirth @include(if: false) id @skip(if: false) } }",
    "skip wins over include": "{ patient { fullName @skip(if: true) @include(if: true) } }",
    "variables": "query ($yes: Boolean!, $no: Boolean!) { patient { "
    "fullName @include(if: $yes) dateOfBirth @include(if: $no) id @skip(if: $no) record @skip(if: $yes) { id } } }",
    "directives on fragments": "query ($yes: Boolean!) { patient { ...Names @skip(if: $yes) "
    "... on Patient @include(if: $yes) { record { id } } ...OnNode @include(if: false) } }",
    "skipped fragment then included": "query ($yes: Boolean!) { patient { ...Names @skip(if: $yes) ...Names } }",
}


def both(query: str, variables: dict) -> tuple[dict, dict]:
    document = parse(query + FRAGMENTS)
    operation = document.definitions[0]
    fragments = {definition.name.value: definition for definition in document.definitions[1:]}
    field_nodes = [operation.selection_set.selections[0]]
    patient_type = SCHEMA.get_type("Patient")
    args = (SCHEMA, fragments, variables, patient_type, field_nodes)
    return collect_sub_fields(*args), dict(private.collect_sub_fields(*args))


@pytest.mark.parametrize("variables", [{"yes": True, "no": False}, {"yes": False, "no": True}])
@pytest.mark.parametrize("name", DOCUMENTS)
def test_the_same_fields_as_graphql_core(name, variables):
    # given a document and its variables
    # when both walks collect the fields under `patient`
    ours, theirs = both(DOCUMENTS[name], variables)
    # then the same response keys, in the same order, with the very same field nodes
    assert list(ours) == list(theirs)
    assert all(ours[key] == theirs[key] for key in theirs)
    assert {key: [node.name.value for node in nodes] for key, nodes in ours.items()} == {
        key: [node.name.value for node in nodes] for key, nodes in theirs.items()
    }


def test_the_comparison_is_not_trivial():
    # given the variables document with include true / skip false
    ours, _ = both(DOCUMENTS["variables"], {"yes": True, "no": False})
    # then it kept and dropped what the directives say
    assert list(ours) == ["fullName", "id"]
