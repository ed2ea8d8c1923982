"""The persisted-documents table stays bounded whoever registers (persisted/services.py).

A valid public document can be varied without end: `{ __typename }` followed by a comment of
30 KiB is valid, within the limits and public, so a caller who has not signed in registered a
30 KiB row per request, unthrottled. The table keeps only the newest PERSISTED_DOCUMENTS_MAX.
"""

import hashlib
import json

import pytest

from persisted.models import PersistedDocument
from persisted.selectors import forget_all


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def junk(n: int) -> str:
    return "{ __typename } # " + f"{n:04d}" * 7_500  # 30 KiB of comment, one token


def post(client, *, sha: str, query: str | None = None):
    payload: dict = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}}
    if query is not None:
        payload["query"] = query
    return client.post("/graphql/", data=json.dumps(payload), content_type="application/json")


@pytest.fixture(autouse=True)
def empty_cache():
    forget_all()  # the per-process LRU outlives each test's rolled-back rows
    yield
    forget_all()


def test_anonymous_junk_registrations_keep_only_the_newest_documents(client, db, settings):
    # given a store bounded to 3 documents
    settings.PERSISTED_DOCUMENTS_MAX = 3
    documents = [junk(n) for n in range(6)]
    # when a caller who has not signed in registers 6 distinct 30 KiB documents
    answers = [post(client, query=document, sha=sha256(document)) for document in documents]
    # then each ran, but only the 3 newest take room in the table
    assert [answer.json() for answer in answers] == [{"data": {"__typename": "Query"}}] * 6
    assert sorted(PersistedDocument.objects.values_list("sha256", flat=True)) == sorted(
        sha256(document) for document in documents[3:]
    )


def test_an_evicted_document_is_not_found_then_registered_again(client, db, settings):
    # given a store of 2 documents, and a first document pushed out by two newer ones
    settings.PERSISTED_DOCUMENTS_MAX = 2
    first, *newer = (junk(n) for n in range(3))
    for document in (first, *newer):
        post(client, query=document, sha=sha256(document))
    forget_all()  # as another process that never saw it
    # when a client sends the first document's hash alone, then (as Apollo's link does) the text with it
    missing = post(client, sha=sha256(first))
    again = post(client, query=first, sha=sha256(first))
    # then PERSISTED_QUERY_NOT_FOUND, and the retry runs and registers it anew (evicting the oldest)
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert again.json() == {"data": {"__typename": "Query"}}
    assert PersistedDocument.objects.filter(sha256=sha256(first)).exists()
    assert PersistedDocument.objects.count() == 2
