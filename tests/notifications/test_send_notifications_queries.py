"""A worker pass costs a constant number of queries per row, and claims with SKIP LOCKED on PostgreSQL."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from care.models import Notification, NotificationStatus
from tests import factories

# A pass: 1 UPDATE settling rows whose sender died out of attempts; per row BEGIN, the claiming
# UPDATE, COMMIT, the SELECT of the claimed row, the settling UPDATE; then a claim that finds
# nothing (BEGIN, UPDATE, COMMIT). The same on SQLite and PostgreSQL.
QUERIES_PER_ROW = 5
QUERIES_PER_PASS = 4


@pytest.mark.parametrize("assignments", [1, 3])
@pytest.mark.django_db(transaction=True)
def test_a_pass_costs_five_queries_per_row(smtp, django_assert_num_queries, assignments):
    # given two due rows per assignment
    for _ in range(assignments):
        factories.assign(doctor=factories.make_doctor(), patient=factories.make_patient())
    due = max(Notification.objects.values_list("next_attempt_at", flat=True))
    smtp.start()
    rows = 2 * assignments
    # when
    with time_machine.travel(due + timedelta(seconds=1), tick=False):
        with django_assert_num_queries(QUERIES_PER_PASS + QUERIES_PER_ROW * rows) as captured:
            call_command("send_notifications", stdout=StringIO())
    # then
    assert Notification.objects.filter(status=NotificationStatus.SENT).count() == rows
    claims = [query["sql"] for query in captured.captured_queries if 'SET "claimed_by" = \'' in query["sql"]]
    assert len(claims) == rows + 1
    if connection.vendor == "postgresql":
        assert all("FOR UPDATE SKIP LOCKED" in sql for sql in claims)
