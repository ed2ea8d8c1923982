"""Nested connections built straight from the optimizer's prefetch answer like strawberry-django's path.

On the fast path, schema/fastpath/connections.PrefetchedPage builds a nested connection (a
record's `annotations`, `history`) from the prefetched page itself. The same requests are run with that
short cut turned off, through strawberry-django's resolver chain and
DjangoListConnection.resolve_optimized_connection_by_prefetch: the JSON must be identical
(cursors, pageInfo, totalCount, nodes), for first/after, empty lists, the last page and past it.
"""

import io

import pytest
from django.core.management import call_command
from strawberry import relay

from tests.conftest import access_token
from tests.perf.fastpath_modes import requires_fast_path
from users.models import User

PAGE = """
query Page($first: Int, $after: String) {
  patients(first: 10) { edges { node { fullName healthRecord {
    annotations(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id body createdAt author { fullName } } }
    }
    history(first: 2) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } }
    }
  } } } }
}
"""
NOTES = 12


def cursor(offset: int) -> str:
    return relay.to_base64("arrayconnection", offset)


@pytest.fixture
def grey_token(db):
    # dr.grey with 3 seeded patients of 12 notes each, and the demo patient alice with none
    call_command("seed_demo", patients=3, annotations_per_patient=NOTES, stdout=io.StringIO())
    return access_token(User.objects.get(username="dr.grey"))


@pytest.fixture
def taken(monkeypatch):
    """How many connections the short cut built."""
    from schema.fastpath.connections import PrefetchedPage

    built = []
    original = PrefetchedPage.__call__

    def counting(self, source):
        page = original(self, source)
        if page is not None:
            built.append(page)
        return page

    monkeypatch.setattr(PrefetchedPage, "__call__", counting)
    return built


def without_short_cut(monkeypatch) -> None:
    from schema.fastpath.connections import PrefetchedPage

    monkeypatch.setattr(PrefetchedPage, "__call__", lambda self, source: None)


CASES = [
    pytest.param({"first": 10}, id="first-page"),
    pytest.param({"first": 5, "after": cursor(2)}, id="middle-page"),
    pytest.param({"first": 10, "after": cursor(4)}, id="last-page"),
    pytest.param({"first": 10, "after": cursor(NOTES - 1)}, id="just-past-the-end"),
    pytest.param({"first": 3, "after": cursor(40)}, id="far-past-the-end"),
    pytest.param({"first": 0}, id="first-zero"),
    pytest.param({}, id="no-arguments"),
]


@requires_fast_path
@pytest.mark.parametrize("variables", CASES)
def test_prefetched_connections_answer_like_strawberry_django(gql, grey_token, monkeypatch, taken, variables):
    # given the same request with the short cut and without it
    fast = gql.execute(PAGE, variables, token=grey_token)
    without_short_cut(monkeypatch)
    slow = gql.execute(PAGE, variables, token=grey_token)
    # then the answers are identical, and not trivially so
    assert fast.errors == slow.errors == []
    assert fast.data == slow.data
    records = [edge["node"]["healthRecord"] for edge in fast.data["patients"]["edges"]]
    assert len(records) == 4
    assert sorted(record["annotations"]["totalCount"] for record in records) == [0, NOTES, NOTES, NOTES]
    # and the short cut did build them (annotations and history of each record), when the optimizer prefetched
    assert len(taken) == 2 * len(records)


def test_the_pages_are_right(gql, grey_token):
    # given a record with 12 notes, asked for 10 after the 5th (offset 4): the last page
    result = gql.execute(PAGE, {"first": 10, "after": cursor(4)}, token=grey_token)
    # then 7 notes, cursors 5..11, a previous page and no next one
    assert result.errors == []
    records = [edge["node"]["healthRecord"] for edge in result.data["patients"]["edges"]]
    empty = next(record["annotations"] for record in records if record["annotations"]["totalCount"] == 0)
    full = next(record["annotations"] for record in records if record["annotations"]["totalCount"] == NOTES)
    assert [edge["cursor"] for edge in full["edges"]] == [cursor(n) for n in range(5, NOTES)]
    assert full["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": cursor(5),
        "endCursor": cursor(NOTES - 1),
    }
    # and a record without notes has an empty page
    assert empty == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None},
        "edges": [],
    }


def test_a_first_page_has_a_next_page(gql, grey_token):
    # given 12 notes, the first 10 asked for
    result = gql.execute(PAGE, {"first": 10}, token=grey_token)
    # then cursors 0..9, a next page, no previous one
    full = next(
        edge["node"]["healthRecord"]["annotations"]
        for edge in result.data["patients"]["edges"]
        if edge["node"]["healthRecord"]["annotations"]["totalCount"] == NOTES
    )
    assert [edge["cursor"] for edge in full["edges"]] == [cursor(n) for n in range(10)]
    assert full["pageInfo"]["hasNextPage"] is True
    assert full["pageInfo"]["hasPreviousPage"] is False


def _errors(result) -> list:
    return sorted(
        (error["message"], tuple(error.get("path") or ()), error["extensions"]["code"]) for error in result.errors
    )


@requires_fast_path
@pytest.mark.parametrize(
    "variables",
    [
        pytest.param({"first": 101}, id="first-over-the-cap"),
        pytest.param({"first": -1}, id="first-negative"),
        pytest.param({"first": 2, "after": "not a cursor"}, id="bad-cursor"),
    ],
)
def test_refused_page_arguments_answer_like_strawberry_django(gql, grey_token, monkeypatch, taken, variables):
    # given arguments the connection refuses, with the short cut and without it
    fast = gql.execute(PAGE, variables, token=grey_token)
    assert taken == []  # the refusal comes before any page is built
    without_short_cut(monkeypatch)
    slow = gql.execute(PAGE, variables, token=grey_token)
    # then the same refusals, at the same places, and the same data around them
    assert _errors(fast) == _errors(slow)
    assert _errors(fast)  # refused, whichever layer refuses it
    assert fast.data == slow.data
