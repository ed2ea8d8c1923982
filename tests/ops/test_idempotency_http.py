"""Concurrent duplicates of one keyed mutation against real gunicorn worker processes.

Eight clients, released together by a barrier, send the same addAnnotation with the same
Idempotency-Key to four workers: one annotation is made and every client gets the same answer
(on SQLite the writers queue for the file's write lock, on PostgreSQL for the key's unique index).
"""

import pytest

from tests.ops.sites import fresh_site, pg_available, post, race

CLIENTS = 8
ADD = "mutation ($input: AddAnnotationInput!) { addAnnotation(input: $input) { id body createdAt } }"
KINDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not pg_available(), reason="needs PostgreSQL: set "
                                                        "DATABASE_URL=postgres://... (CI runs the suite there too)")),
]


@pytest.mark.parametrize("kind", KINDS)
def test_concurrent_duplicates_across_processes_make_one_annotation(kind, tmp_path):
    with fresh_site(kind, tmp_path, WEB_CONCURRENCY="4") as site:
        # given dr. grey signed in, and alice's record (he is assigned to her)
        token = site.login("dr.grey")
        record = post(site.server, "{ patients(first: 1) { edges { node { healthRecord { id } } } } }", {},
                      token=token).data["patients"]["edges"][0]["node"]["healthRecord"]["id"]
        variables = {"input": {"recordId": record, "body": "Sent once, delivered eight times."}}
        headers = {"Idempotency-Key": "8e03978e-40d5-43e8-bc93-6894a57f9324"}
        # when eight clients send it at once with the same key
        answers = race([lambda: post(site.server, ADD, variables, token=token, headers=headers)] * CLIENTS)
        # then every answer is the same success, and exactly one was not a replay
        assert {answer.status for answer in answers} == {200}, [answer.body for answer in answers]
        assert all(answer.body == answers[0].body for answer in answers)
        assert answers[0].body["data"]["addAnnotation"]["body"] == "Sent once, delivered eight times."
        replayed = [answer.headers.get("Idempotent-Replayed") for answer in answers]
        assert replayed.count(None) == 1 and replayed.count("true") == CLIENTS - 1
        # and the database holds one such annotation and one key
        body = variables["input"]["body"]
        assert site.rows("SELECT COUNT(*) FROM records_annotation WHERE body = %s", body) == [(1,)]
        assert site.rows("SELECT COUNT(*) FROM idempotency_idempotencykey") == [(1,)]
