"""graphql-cop's probes, sent as it sends them, one test each.

Each asserts the refusal and that nothing ran: anonymous callers, so a refusal before
execution touches no table at all (`django_assert_num_queries(0)`); where a probe carries a
login mutation, no session (refresh token row) exists afterwards either.
"""

import json

import pytest
from django.test import override_settings

from tests.factories import PASSWORD
from users.token_library import get_refresh_token_model

URL = "/graphql/"
LOGIN = f'mutation cop {{ tokenAuth(username: "alice", password: "{PASSWORD}") {{ token }} }}'


def post_json(client, payload, **extra):
    return client.post(URL, data=json.dumps(payload), content_type="application/json", **extra)


def codes(response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json()["errors"]]


def sessions() -> int:
    return get_refresh_token_model().objects.count()


def test_alias_overloading_is_refused(client, world, django_assert_num_queries):
    # given: graphql-cop's 101 aliases
    query = "query cop { " + "".join(f"alias{n}:__typename \n" for n in range(101)) + "}"

    # when
    with django_assert_num_queries(0):
        response = post_json(client, {"query": query})

    # then
    assert response.status_code == 200
    assert response.json()["data"] is None
    assert codes(response) == ["QUERY_TOO_COMPLEX"]


def test_alias_overloaded_login_attempts_are_refused_before_any_login(client, world, django_assert_num_queries):
    # given: sixteen password guesses in one document
    guesses = " ".join(
        f'g{n}: tokenAuth(username: "alice", password: "guess-{n}") {{ token }}' for n in range(16)
    )

    # when
    with django_assert_num_queries(0):
        response = post_json(client, {"query": f"mutation {{ {guesses} }}"})

    # then
    assert response.json()["data"] is None
    assert codes(response) == ["QUERY_TOO_COMPLEX"]
    assert sessions() == 0


def test_array_batching_is_refused(client, world, django_assert_num_queries):
    # given: graphql-cop's batch, with a login inside it
    batch = [{"query": "query cop { __typename }"}] * 9 + [{"query": LOGIN}]

    # when
    with django_assert_num_queries(0):
        response = post_json(client, batch)

    # then
    assert response.status_code == 400
    assert not isinstance(response.json(), list)
    assert codes(response) == ["BAD_USER_INPUT"]
    assert sessions() == 0


def test_circular_introspection_is_refused_even_for_a_signed_in_caller(gql, world):
    # given: fields -> type -> fields ..., the query that grows with the schema's cycles
    query = (
        "query cop { __schema { types { fields { type { fields { type { fields { type { fields "
        "{ type { name } } } } } } } } } } }"
    )

    # when
    result = gql.execute(query, user=world.alice.user)

    # then
    assert result.data is None
    assert result.codes == ["QUERY_TOO_COMPLEX"]


def test_directive_overloading_is_answered_with_one_error(client, world, django_assert_num_queries):
    # given: graphql-cop's ten unknown directives (it flags a server that answers ten errors)
    query = "query cop { __typename @aa@aa@aa@aa@aa@aa@aa@aa@aa@aa }"

    # when
    with django_assert_num_queries(0):
        response = post_json(client, {"query": query})

    # then
    body = response.json()
    assert body["data"] is None
    assert len(body["errors"]) == 1
    assert len(body["errors"][0]["locations"]) == 10


def test_directive_overloading_past_the_limit_is_too_complex(client, world, django_assert_num_queries):
    # given: 51 directives (the limit is 50)
    query = "query cop { __typename " + "@include(if: true) " * 51 + "}"

    # when
    with django_assert_num_queries(0):
        response = post_json(client, {"query": query})

    # then
    assert response.json()["data"] is None
    assert codes(response) == ["QUERY_TOO_COMPLEX"]


def test_field_duplication_is_refused(client, world, django_assert_num_queries):
    # given: graphql-cop's 500 repeated fields (about 500 tokens: under the token limit)
    query = "query cop { " + "__typename \n" * 500 + "} "

    # when
    with django_assert_num_queries(0):
        response = post_json(client, {"query": query})

    # then
    assert response.json()["data"] is None
    assert codes(response) == ["QUERY_TOO_COMPLEX"]


def test_field_suggestions_are_off(gql, world):
    # given: a misspelt field, signed in (so introspection itself would be allowed)
    query = "query cop { __schema { directive } }"

    # when
    result = gql.execute(query, user=world.alice.user)
    typo = gql.execute("{ patientz { totalCount } }", user=world.alice.user)

    # then
    assert result.data is None
    assert result.errors and "Did you mean" not in json.dumps(result.body)
    assert typo.code == "BAD_USER_INPUT"
    assert "patientz" in typo.errors[0]["message"]
    assert "Did you mean" not in json.dumps(typo.body)


@override_settings(DEBUG=True)
def test_field_suggestions_are_on_with_debug(gql, world):
    # when
    typo = gql.execute("{ patientz { totalCount } }", user=world.alice.user)

    # then: the same error, with graphql-core's hint (so the test above can fail)
    assert "Did you mean 'patients'?" in typo.errors[0]["message"]


def test_query_over_get_is_refused(client, world, django_assert_num_queries):
    # when
    with django_assert_num_queries(0):
        response = client.get(URL, {"query": "query cop { __typename }"}, HTTP_ACCEPT="application/json")

    # then
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "data" not in response.json()


def test_mutation_over_get_is_refused(client, world, django_assert_num_queries):
    # when
    with django_assert_num_queries(0):
        response = client.get(URL, {"query": LOGIN})

    # then
    assert response.status_code == 405
    assert "data" not in response.json()
    assert sessions() == 0


def test_graphiql_is_not_served(client, db, django_assert_num_queries):
    # when: a browser asks for the IDE
    with django_assert_num_queries(0):
        response = client.get(URL, HTTP_ACCEPT="text/html,application/xhtml+xml")

    # then
    assert response.status_code == 405
    assert b"graphiql" not in response.content.lower()


@override_settings(DEBUG=True)
def test_graphiql_is_served_with_debug(client, db):
    # when
    response = client.get(URL, HTTP_ACCEPT="text/html")

    # then
    assert response.status_code == 200
    assert b"graphiql" in response.content.lower()


def test_anonymous_introspection_is_refused(client, world, django_assert_num_queries):
    # given: graphql-cop's introspection probe, anonymous
    query = "query cop { __schema { types { name fields { name } } } }"

    # when
    with django_assert_num_queries(0):
        response = post_json(client, {"query": query})

    # then
    assert response.json()["data"] is None
    assert codes(response) == ["UNAUTHENTICATED"]
    assert "__schema" not in json.dumps(response.json()["data"])


def test_post_urlencoded_is_refused(client, world, django_assert_num_queries):
    # given: a form post, which a cross-site page can send without a CORS preflight
    # when
    with django_assert_num_queries(0):
        response = client.post(URL, data={"query": LOGIN})  # Django's client: multipart form
        urlencoded = client.post(
            URL, data=f"query={LOGIN}", content_type="application/x-www-form-urlencoded"
        )

    # then
    assert response.status_code == 415
    assert urlencoded.status_code == 415
    assert "data" not in urlencoded.json()
    assert sessions() == 0


def test_trace_mode_is_off(client, world):
    # given: graphql-cop's trace probe, asking for Apollo tracing as well
    payload = {"query": "query cop { __typename }", "extensions": {"tracing": True}}

    # when
    response = post_json(client, payload, HTTP_APOLLO_QUERY_PLAN_EXPERIMENTAL="1", HTTP_X_APOLLO_TRACING="1")

    # then
    body = response.json()
    assert body["data"] == {"__typename": "Query"}
    assert "tracing" not in json.dumps(body.get("extensions") or {})
    assert "ftv1" not in json.dumps(body.get("extensions") or {})


@pytest.mark.parametrize(
    "payload",
    [
        {"query": "qwerty cop { abc }"},
        {"query": "query cop { __typename "},
        {"query": 42},
        {"query": "query cop { __typename }", "variables": "not an object"},
        {"query": "query cop($n: Int) { __typename }", "variables": {"n": {"$gt": ""}}},
        {"query": "query cop { __typename }", "operationName": ["x"]},
    ],
)
def test_unhandled_errors_are_not_exposed(client, world, payload):
    # when: malformed documents and bodies
    response = post_json(client, payload)

    # then: a client error, without exception names or traces
    assert 400 <= response.status_code < 500 or response.json()["data"] is None
    text = response.content.decode().lower()
    for leak in ("exception", "traceback", "error:", ".py", "line "):
        assert leak not in text.replace("syntax error:", "")
