"""Bad input answers BAD_USER_INPUT, naming where it was (DESIGN.md section 6), before any work."""

import json

import pytest

from records.services import annotation_add

SURROGATE_MESSAGE = "Invalid Unicode: a lone surrogate (U+D800 to U+DFFF) is not a character."
NESTED_ANNOTATIONS = "{ patients { edges { node { healthRecord { annotations(%s) { edges { node { body } } } } } } } }"


def post(client, body: str, token: str | None = None) -> dict:
    extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    response = client.post("/graphql/", data=body, content_type="application/json", **extra)
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # raw JSON text: json.dumps would refuse to write a lone surrogate escaped by hand
        (r'{"query": "{ patients(search: \"\ud800\") { totalCount } }"}', "query"),
        (r'{"query": "{ __typename } # \udfff"}', "query"),
        (r'{"query": "query ($s: String) { patients(search: $s) { totalCount } }", "variables": {"s": "\ud800"}}', "s"),
        (
            r'{"query": "mutation ($i: AddAnnotationInput!) { addAnnotation(input: $i) { id } }",'
            r' "variables": {"i": {"recordId": "x", "body": "ok \udc00"}}}',
            "body",
        ),
        (r'{"query": "query Q { __typename }", "operationName": "Q\ud800"}', "operationName"),
    ],
)
@pytest.mark.parametrize("signed_in", [False, True])
def test_a_lone_surrogate_anywhere_is_bad_user_input(
    client, gql, world, django_assert_num_queries, body, field, signed_in
):
    # given
    token = gql.sign_in(world.grey.user) if signed_in else None
    # when: only the token's user is read
    with django_assert_num_queries(1 if signed_in else 0):
        answer = post(client, body, token)
    # then
    assert answer["data"] is None
    [error] = answer["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": {field: [SURROGATE_MESSAGE]}}


def test_a_surrogate_pair_is_a_character_like_any_other(gql, world):
    # when: U+1F600 escaped as JSON must escape it, in two halves
    query = "query ($s: String) { patients(search: $s) { totalCount } }"
    result = gql.execute(query, {"s": "\U0001f600"}, user=world.grey.user)
    # then
    assert result.errors == []
    assert result.data == {"patients": {"totalCount": 0}}


@pytest.mark.parametrize(
    ("arguments", "variables", "field", "message"),
    [
        ("first: -1", None, "first", "Must be between 0 and 100."),
        ("first: $n", {"n": -5}, "first", "Must be between 0 and 100."),
        ('after: "not a cursor"', None, "after", "Not a valid cursor."),
        ("after: $a", {"a": "YXJyYXljb25uZWN0aW9uOi0x"}, "after", "Not a valid cursor."),  # arrayconnection:-1
    ],
)
def test_a_bad_page_argument_nested_under_a_list_is_bad_user_input_before_execution(
    gql, world, django_assert_num_queries, arguments, variables, field, message
):
    # given notes the optimizer would prefetch, and a signed-in doctor
    annotation_add(actor=world.grey.user, record=world.alice.health_record, body="A note.")
    gql.sign_in(world.grey.user)
    declared = "($n: Int, $a: String)" if variables else ""
    query = f"query {declared} " + NESTED_ANNOTATIONS % arguments
    # when: nothing is read but the token's user
    with django_assert_num_queries(1):
        result = gql.execute(query, variables, user=world.grey.user)
    # then
    assert result.data is None
    assert result.errors[0]["extensions"] == {"code": "BAD_USER_INPUT", "fields": {field: [message]}}


@pytest.mark.parametrize("value", ["1e308", "2147483648", "-2147483649"])
def test_absurd_numbers_are_bad_user_input(client, world, gql, value):
    # when
    body = json.dumps({"query": f"{{ patients(first: {value}) {{ totalCount }} }}"})
    answer = post(client, body, gql.sign_in(world.grey.user))
    # then
    assert [error["extensions"]["code"] for error in answer["errors"]] == ["BAD_USER_INPUT"]
