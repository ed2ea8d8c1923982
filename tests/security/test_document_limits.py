"""DESIGN.md section 6's limits, each at its edge: the limit passes, one more is refused with
QUERY_TOO_COMPLEX before anything runs (anonymous callers: no query reaches the database)."""

import json

import pytest
from django.test import override_settings
from graphql import get_introspection_query

from schema.limits import MAX_ALIASES, MAX_DEPTH, MAX_DIRECTIVES, MAX_REPEATS_PER_SELECTION, MAX_TOKENS
from schema.pagination import MAX_PAGE_SIZE


def nested_record_query(depth: int) -> str:
    """`myHealthRecord { patient { healthRecord { ... fullName } } }` with its leaf at `depth`
    (graphql-depth-limit's count, as Strawberry's QueryDepthLimiter: root fields are level 0)."""
    fields = ["myHealthRecord"] + ["patient" if n % 2 else "healthRecord" for n in range(1, depth)]
    leaf = "fullName" if fields[-1] == "patient" else "allergies"
    return "{ " + " { ".join(fields) + " { " + leaf + " }" * len(fields) + " }"


def test_depth_at_the_limit_runs(gql, world):
    # when: a leaf at depth 10 (11 nested fields)
    result = gql.execute(nested_record_query(MAX_DEPTH), user=world.alice.user)

    # then
    assert result.errors == []
    assert result.data["myHealthRecord"]["patient"]["healthRecord"]["patient"]["healthRecord"]["patient"]


def test_depth_past_the_limit_is_refused(gql, world, django_assert_num_queries):
    # when
    with django_assert_num_queries(0):
        result = gql.execute(nested_record_query(MAX_DEPTH + 1))

    # then
    assert result.data is None
    assert result.codes == ["QUERY_TOO_COMPLEX"]
    assert "depth" in result.errors[0]["message"]


def test_a_relay_connection_costs_two_levels(gql, world, django_assert_num_queries):
    # given: patients(0) edges(1) node(2), then four record/patient round trips: fullName at 11
    hops = "healthRecord { patient { " * 4 + "fullName" + " } }" * 4
    query = f"{{ patients(first: 1) {{ edges {{ node {{ {hops} }} }} }} }}"

    # when
    with django_assert_num_queries(0):
        result = gql.execute(query)

    # then: without edges and node the leaf would sit at 9
    assert result.codes == ["QUERY_TOO_COMPLEX"]


def aliases(count: int) -> str:
    return "{ " + " ".join(f"a{n}: __typename" for n in range(count)) + " }"


def test_aliases_at_the_limit_run(gql, db):
    # when
    result = gql.execute(aliases(MAX_ALIASES))

    # then
    assert result.errors == []
    assert result.data == {f"a{n}": "Query" for n in range(MAX_ALIASES)}


def test_aliases_past_the_limit_are_refused(gql, db, django_assert_num_queries):
    # when
    with django_assert_num_queries(0):
        result = gql.execute(aliases(MAX_ALIASES + 1))

    # then
    assert result.data is None
    assert result.codes == ["QUERY_TOO_COMPLEX"]


def test_aliases_spread_through_fragments_count_each_time(gql, db, django_assert_num_queries):
    # given: 8 aliases in a fragment spread twice (16)
    fragment = "fragment F on Query { " + " ".join(f"a{n}: __typename" for n in range(8)) + " }"
    query = "{ ...F ... on Query { ...F } } " + fragment

    # when
    with django_assert_num_queries(0):
        result = gql.execute(query)

    # then
    assert result.codes == ["QUERY_TOO_COMPLEX"]


def test_tokens_past_the_limit_are_refused(gql, db, django_assert_num_queries):
    # given: 251 variable definitions of four tokens each ($, name, :, type)
    variables = " ".join(f"$v{n}: Int" for n in range(251))
    query = f"query Q({variables}) {{ __typename }}"

    # when
    with django_assert_num_queries(0):
        result = gql.execute(query)

    # then: refused while parsing, not reported as 251 unused variables
    assert result.data is None
    assert result.codes == ["QUERY_TOO_COMPLEX"]
    assert f"more than {MAX_TOKENS} tokens" in result.errors[0]["message"]


def test_comments_count_as_tokens(gql, db, django_assert_num_queries):
    # given: a valid query behind a thousand comments
    query = "# padding\n" * MAX_TOKENS + "{ __typename }"

    # when
    with django_assert_num_queries(0):
        result = gql.execute(query)

    # then
    assert result.codes == ["QUERY_TOO_COMPLEX"]


def test_the_standard_introspection_query_runs_for_a_signed_in_caller(gql, world):
    # when
    result = gql.execute(get_introspection_query(descriptions=True), user=world.grey.user)

    # then
    assert result.errors == []
    names = {type_["name"] for type_ in result.data["__schema"]["types"]}
    assert {"Query", "Mutation", "HealthRecord", "PatientConnection"} <= names


def test_introspection_is_anonymous_when_public_introspection_is_on(gql, db):
    # when
    with override_settings(GRAPHQL_PUBLIC_INTROSPECTION=True):
        public = gql.execute("{ __type(name: \"Patient\") { name } }")
    private = gql.execute("{ __type(name: \"Patient\") { name } }")

    # then
    assert public.data == {"__type": {"name": "Patient"}}
    assert private.data is None
    assert private.codes == ["UNAUTHENTICATED"]


@override_settings(DEBUG=True)
def test_introspection_is_anonymous_with_debug(gql, db):
    # when
    result = gql.execute("{ __schema { queryType { name } } }")

    # then
    assert result.data == {"__schema": {"queryType": {"name": "Query"}}}


def test_introspection_with_an_expired_token_is_refused(gql, world):
    # when: a token that does not authenticate anybody
    result = gql.execute("{ __schema { queryType { name } } }", token="not-a-jwt")

    # then
    assert result.data is None
    assert result.codes == ["UNAUTHENTICATED"]


def directives(count: int) -> str:
    """`count` nested inline fragments, each with a directive (nesting keeps __typename single)."""
    return "{ " + "... @include(if: true) { " * count + "__typename" + " }" * count + " }"


def test_directives_at_the_limit_run(gql, db):
    # when
    result = gql.execute(directives(MAX_DIRECTIVES))

    # then
    assert result.errors == []
    assert result.data == {"__typename": "Query"}


def test_directives_past_the_limit_are_refused(gql, db, django_assert_num_queries):
    # when
    with django_assert_num_queries(0):
        result = gql.execute(directives(MAX_DIRECTIVES + 1))

    # then
    assert result.data is None
    assert result.codes == ["QUERY_TOO_COMPLEX"]


def test_first_at_the_limit_runs(gql, world):
    # when
    result = gql.execute(f"{{ patients(first: {MAX_PAGE_SIZE}) {{ totalCount }} }}", user=world.coordinator)

    # then
    assert result.errors == []
    assert result.data["patients"]["totalCount"] == 2


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ patients(first: 101) { totalCount } }", None),
        ("query Q($n: Int) { patients(first: $n) { totalCount } }", {"n": 101}),
        ("query Q($n: Int = 101) { patients(first: $n) { totalCount } }", None),
        (
            "query Q($n: Int) { myHealthRecord { annotations(first: $n) { totalCount } } }",
            {"n": 10**9},
        ),
    ],
    ids=["literal", "variable", "variable default", "nested connection"],
)
def test_first_past_the_limit_is_refused_before_execution(gql, world, query, variables, django_assert_num_queries):
    # when: anonymous, so a resolver running would answer UNAUTHENTICATED instead
    with django_assert_num_queries(0):
        result = gql.execute(query, variables)

    # then
    assert result.data is None
    assert result.codes == ["QUERY_TOO_COMPLEX"]
    assert "'first' may be at most 100" in result.errors[0]["message"]


def test_limit_errors_come_alone(gql, db):
    # given: too many aliases AND an unknown field: the costly validation never runs
    query = "{ " + " ".join(f"a{n}: nope" for n in range(MAX_ALIASES + 1)) + " }"

    # when
    result = gql.execute(query)

    # then
    assert result.codes == ["QUERY_TOO_COMPLEX"]
    assert "nope" not in json.dumps(result.body)


@pytest.mark.parametrize(
    "query",
    [
        "{ " + "me { " * 190 + "id" + " }" * 191,
        "{ __type(name: \"Patient\") { " + "ofType { " * 190 + "name" + " }" * 191,
        "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
        "{ __schema { types { ...T } } } fragment T on __Type { fields { type { ...T } } }",
    ],
    ids=["190 levels", "190 ofType levels", "fragment cycle", "introspection fragment cycle"],
)
def test_pathological_nesting_is_refused_without_an_internal_error(gql, world, query):
    # when: signed in, so introspection itself is allowed
    result = gql.execute(query, user=world.alice.user)

    # then: a client error, never INTERNAL (a RecursionError would be)
    assert result.data is None
    assert result.codes and set(result.codes) <= {"QUERY_TOO_COMPLEX", "BAD_USER_INPUT"}


def test_repeats_at_the_limit_run(gql, db):
    # given: a field asked for by 20 fragments, as components' fragments each ask for `id`
    query = "{ " + "... { __typename } " * MAX_REPEATS_PER_SELECTION + "}"

    # when
    result = gql.execute(query)

    # then
    assert result.errors == []
    assert result.data == {"__typename": "Query"}


@pytest.mark.parametrize(
    "query",
    [
        "{ " + "__typename " * (MAX_REPEATS_PER_SELECTION + 1) + "}",
        "{ " + "... { __typename } " * (MAX_REPEATS_PER_SELECTION + 1) + "}",
        "{ " + " ".join(f"...F{n}" for n in range(MAX_REPEATS_PER_SELECTION + 1)) + " } "
        + " ".join(f"fragment F{n} on Query {{ __typename }}" for n in range(MAX_REPEATS_PER_SELECTION + 1)),
    ],
    ids=["literal", "inline fragments", "fragment spreads"],
)
def test_repeats_past_the_limit_are_refused_however_they_are_spread(gql, db, query, django_assert_num_queries):
    # when
    with django_assert_num_queries(0):
        result = gql.execute(query)

    # then
    assert result.data is None
    assert result.codes == ["QUERY_TOO_COMPLEX"]


def doubling_fragments(levels: int, alias: bool) -> str:
    """F0 spreads F1 twice, F1 spreads F2 twice...: 2**levels paths through a small document."""
    field = "a: __typename " if alias else ""
    chain = " ".join(f"fragment F{n} on Query {{ {field}...F{n + 1} ...F{n + 1} }}" for n in range(levels))
    return f"{{ ...F0 }} {chain} fragment F{levels} on Query {{ __typename }}"


def test_fragments_are_measured_once_not_once_per_path(gql, db):
    # given: 2**40 paths (Strawberry's own depth and alias rules walk every one of them)
    # when
    result = gql.execute(doubling_fragments(40, alias=False))

    # then: it runs, and the fields merge into one
    assert result.errors == []
    assert result.data == {"__typename": "Query"}


def test_aliases_count_once_per_spread_through_any_fan_out(gql, db, django_assert_num_queries):
    # when: one alias in each fragment Fn, spread 2**n times
    with django_assert_num_queries(0):
        result = gql.execute(doubling_fragments(40, alias=True))

    # then: 1 + 2 + 4 + ... + 2**39 of them (and `a` repeated through the spreads, too)
    assert set(result.codes) == {"QUERY_TOO_COMPLEX"}
    assert f"{2**40 - 1} aliases found. Allowed: {MAX_ALIASES}" in [error["message"] for error in result.errors]


def test_nesting_past_the_parsers_limit_is_too_complex(gql, db, django_assert_num_queries):
    # given: 250 nested selection sets in 750 tokens (graphql-core stops parsing at 200)
    query = "{ " + "me { " * 250 + "id" + " }" * 251

    # when
    with django_assert_num_queries(0):
        result = gql.execute(query)

    # then
    assert result.codes == ["QUERY_TOO_COMPLEX"]
    assert "nested too deeply" in result.errors[0]["message"]
