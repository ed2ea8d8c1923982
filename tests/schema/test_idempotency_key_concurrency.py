"""Concurrent duplicates of one keyed mutation: the first runs, the others wait and get its answer.

Threads released by a barrier, each with its own database connection, through Django's test
client (tests/ops/test_idempotency_http.py does the same with real gunicorn processes).
"""

import pytest
from django.test import Client

from idempotency.models import IdempotencyKey
from records.models import Annotation
from tests.conftest import global_id, is_postgres, run_concurrently
from tests.schema.test_idempotency_key import ADD, sign_in

THREADS = 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_make_one_annotation_and_all_get_the_same_answer(world):
    if not is_postgres():
        # The suite's SQLite test database is in memory with a shared cache, whose table locks
        # fail at once instead of waiting; the file-based races run against gunicorn instead.
        pytest.skip("threads need PostgreSQL here; SQLite is raced through real processes in tests/ops")
    # given dr. grey's token and one note, committed so every thread sees them
    token = sign_in(Client(), "dr.grey")
    variables = {"input": {"recordId": global_id("HealthRecord", world.alice.health_record.pk), "body": "Once."}}
    headers = {"HTTP_IDEMPOTENCY_KEY": "race-1"}
    # when every thread sends it at once with the same key
    results = run_concurrently(THREADS, lambda client: client.execute(ADD, variables, token=token, headers=headers))
    # then one annotation was made, and every thread got the same answer naming it
    annotation = Annotation.objects.get()
    assert {result.status_code for result in results} == {200}
    assert all(result.body == results[0].body for result in results), [result.body for result in results]
    assert results[0].data["addAnnotation"]["id"] == global_id("Annotation", annotation.pk)
    assert IdempotencyKey.objects.get().key == "race-1"
