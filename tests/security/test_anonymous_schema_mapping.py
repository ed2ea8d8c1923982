"""Anonymous callers cannot map the schema from errors (DESIGN.md section 6, issue 12 item 6).

A clairvoyance-style probe, signed out, with introspection and suggestions off: every private
type and field name of the schema is tried as a root field, inside the public payloads, as a
fragment's type and as a variable's type, next to names that exist nowhere. Whatever comes back
names nothing private, and a real name answers exactly as a made-up one.
"""

import json
import re

import pytest
from django.test import override_settings
from graphql import GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType, specified_scalar_types

from schema import schema
from schema.internals import graphql_schema
from schema.public_schema import public_vocabulary
from tests.factories import PASSWORD

FULL = graphql_schema(schema)
VOCABULARY = public_vocabulary(FULL)
MADE_UP = "zzqxNotAName"
LOGIN = 'tokenAuth(username: "nobody", password: "wrong")'


def schema_names() -> set[str]:
    names = set()
    for type_ in FULL.type_map.values():
        if type_.name.startswith("__") or type_.name in specified_scalar_types:
            continue
        names.add(type_.name)
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            names.update(type_.fields)
    return names


PRIVATE_NAMES = sorted(schema_names() - VOCABULARY)
PRIVATE_TYPES = sorted(
    name for name in PRIVATE_NAMES if name in FULL.type_map and isinstance(FULL.type_map[name], GraphQLObjectType)
)


def field_probes(name: str) -> list[str]:
    """What clairvoyance sends for one candidate field name."""
    return [
        f"{{ {name} }}",  # unknown field vs "must have a selection of subfields"
        f"{{ {name} {{ {MADE_UP} }} }}",
        f"{{ {name}(first: 1) {{ __typename }} }}",  # wrong arguments
        f"{{ {name}(input: {{}}) }}",
        f"mutation {{ {name} }}",
        f'mutation {{ {name}(input: {{id: "1"}}) {{ id }} }}',
        f"{{ __typename ... on Query {{ {name} }} }}",
        f"mutation {{ {LOGIN} {{ {name} }} }}",  # inside the public payloads
        f"mutation {{ {LOGIN} {{ user {{ {name} }} }} }}",
        f"mutation {{ {LOGIN} {{ user {{ {name} {{ id }} }} }} }}",
    ]


def type_probes(name: str) -> list[str]:
    """What it sends for one candidate type name."""
    return [
        f"{{ __typename ...F }} fragment F on {name} {{ id }}",
        f"{{ __typename }} fragment F on {name} {{ {MADE_UP} }}",
        f"{{ __typename ... on {name} {{ id }} }}",
        f"mutation {{ {LOGIN} {{ user {{ ... on {name} {{ id }} }} }} }}",
        f"query ($v: {name}) {{ __typename }}",
        f"mutation ($v: {name}!) {{ {LOGIN} {{ token }} }}",
    ]


def answer(client, query: str, **headers) -> dict:
    response = client.post("/graphql/", data=json.dumps({"query": query}), content_type="application/json", **headers)
    assert response.status_code == 200
    body = response.json()
    return {"data": body.get("data"), "errors": body.get("errors")}


def private_names_in(body: dict) -> set[str]:
    words = set(re.findall(r"[_A-Za-z][_0-9A-Za-z]*", json.dumps(body["errors"])))
    return words & set(PRIVATE_NAMES)


def without_locations(body: dict) -> dict:
    return {**body, "errors": [{k: v for k, v in error.items() if k != "locations"} for error in body["errors"] or []]}


def test_the_probe_knows_the_private_names():
    # the names the probe hunts: every private root field, nested field and type of the schema
    assert {"patients", "healthRecord", "annotations", "addAnnotation", "me"} <= set(PRIVATE_NAMES)
    assert {"Doctor", "PatientConnection", "HealthRecord"} <= set(PRIVATE_TYPES)


def test_an_anonymous_schema_recovery_probe_learns_nothing(client, world, django_assert_num_queries):
    # given every probe for every private name, and the same probe for a name that does not exist
    probes = [(name, query) for name in PRIVATE_NAMES for query in field_probes(name)]
    probes += [(name, query) for name in PRIVATE_TYPES for query in type_probes(name)]
    leaks, oracles = [], []
    for name, query in probes:
        # when sent signed out: refused before any work (no login is attempted, no row read)
        with django_assert_num_queries(0):
            real = answer(client, query)
            made_up = answer(client, re.sub(rf"\b{name}\b", MADE_UP, query))
        # then no error names anything private, and a real name answers as one that does not exist
        assert real["errors"], query
        if private_names_in(real):
            leaks.append((query, real["errors"]))
        if without_locations(real) != without_locations(made_up):
            oracles.append((query, real, made_up))
    assert len(probes) > 500
    assert leaks == []
    assert oracles == []


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ patients { totalCount } }", "UNAUTHENTICATED"),  # the access table's answer
        ("{ me { username } }", "UNAUTHENTICATED"),
        ("{ patients }", "UNAUTHENTICATED"),
        ("{ patientz { id } }", "UNAUTHENTICATED"),
        ("mutation { addAnnotation(input: {recordId: 1, body: 2}) { id } }", "UNAUTHENTICATED"),
        ("{ __schema { types { name } } }", "UNAUTHENTICATED"),
        (f"mutation {{ {LOGIN} {{ user {{ doctor {{ specialty }} }} }} }}", "BAD_USER_INPUT"),
    ],
)
def test_anonymous_refusals_name_nothing_private(client, world, query, code):
    # when
    body = answer(client, query)
    # then
    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == [code]
    assert private_names_in(body) == set()


def test_a_bad_token_keeps_its_own_code_and_names_nothing(client, world):
    # when a private operation is sent with a token that is not one
    body = answer(client, "{ patients { totalCount } }", HTTP_AUTHORIZATION="Bearer not-a-token")
    # then the token's error, as the field's permission would have said
    assert [error["extensions"]["code"] for error in body["errors"]] == ["TOKEN_INVALID"]
    assert private_names_in(body) == set()


def test_the_public_operations_still_work_signed_out(client, world):
    # when
    login = f'tokenAuth(username: "alice", password: "{PASSWORD}")'
    signed_in = answer(client, f"mutation {{ {login} {{ token refreshToken user {{ username role }} }} }}")
    typename = answer(client, "{ __typename }")
    mistake = answer(client, 'mutation { tokenAuth(username: "alice") { token } }')
    # then sign-in answers as always, and a mistake in a public operation is explained in public names
    assert signed_in["errors"] is None
    assert signed_in["data"]["tokenAuth"]["user"] == {"username": "alice", "role": "PATIENT"}
    assert typename == {"data": {"__typename": "Query"}, "errors": None}
    assert mistake["errors"][0]["message"] == (
        "Field 'tokenAuth' argument 'password' of type 'String!' is required, but it was not provided."
    )


def test_signed_in_callers_still_get_useful_messages(gql, world):
    # when
    missing_subfields = gql.execute("{ patients }", user=world.grey.user)
    typo = gql.execute("{ patientz { id } }", user=world.grey.user)
    # then
    assert missing_subfields.errors[0]["message"] == (
        "Field 'patients' of type 'PatientConnection!' must have a selection of subfields."
    )
    assert typo.errors[0]["message"] == "Cannot query field 'patientz' on type 'Query'."


@override_settings(GRAPHQL_PUBLIC_INTROSPECTION=True)
def test_with_public_introspection_the_schema_is_public_anyway(client, world):
    # when
    body = answer(client, "{ patients }")
    # then the full schema's message, as introspection would tell it anyway
    assert "PatientConnection" in body["errors"][0]["message"]
