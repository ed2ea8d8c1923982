"""Failed sends back off exponentially (jittered, capped) and end FAILED after N attempts."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from care.models import Notification, NotificationStatus
from care.notifications import backoff_delay
from tests import factories


def test_backoff_doubles_from_the_base_with_jitter_in_the_upper_half_and_is_capped(settings):
    # given
    settings.NOTIFICATION_BACKOFF_BASE_SECONDS = 30
    settings.NOTIFICATION_BACKOFF_MAX_SECONDS = 3600
    # when
    delays = {attempts: [backoff_delay(attempts).total_seconds() for _ in range(200)] for attempts in range(1, 13)}
    # then each attempt's delay lies in [ceiling/2, ceiling], the ceiling doubling up to the cap
    for attempts, samples in delays.items():
        ceiling = min(3600, 30 * 2 ** (attempts - 1))
        assert all(ceiling / 2 <= sample <= ceiling for sample in samples), attempts
        assert len(set(samples)) > 100, "jittered, not a fixed delay"
    assert max(delays[12]) <= 3600
    assert min(delays[12]) >= 1800


@pytest.mark.django_db(transaction=True)
def test_after_the_last_attempt_the_rows_are_failed_and_no_longer_tried(smtp, settings):
    # given SMTP stays down, three attempts are allowed, and two rows are queued
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    doctor = factories.make_doctor()
    patient = factories.make_patient()
    factories.assign(doctor=doctor, patient=patient)

    def current() -> list[Notification]:
        return list(Notification.objects.filter(recipient__in=[doctor.user, patient.user]).order_by("kind"))

    rows = current()
    history = [[(row.status, row.attempts) for row in rows]]
    # when the worker passes four times, each time once every retry is due
    outputs = []
    for _ in range(4):
        due = max([row.next_attempt_at for row in rows if row.next_attempt_at], default=None)
        moment = (due or rows[0].created_at) + timedelta(hours=2)
        with time_machine.travel(moment, tick=False):
            out = StringIO()
            call_command("send_notifications", stdout=out)
            outputs.append(out.getvalue().strip())
        rows = current()
        # a retry is scheduled after the failed attempt, at least half the base delay later
        half_base = timedelta(seconds=settings.NOTIFICATION_BACKOFF_BASE_SECONDS / 2)
        assert all(row.next_attempt_at is None or row.next_attempt_at >= moment + half_base for row in rows)
        history.append([(row.status, row.attempts) for row in rows])
    # then attempts 1 and 2 were retried later, attempt 3 was the last, the fourth pass had nothing to do
    assert outputs == [
        "0 sent, 2 to retry, 0 failed.",
        "0 sent, 2 to retry, 0 failed.",
        "0 sent, 0 to retry, 2 failed.",
        "0 sent, 0 to retry, 0 failed.",
    ]
    pending, failed = NotificationStatus.PENDING, NotificationStatus.FAILED
    assert history == [
        [(pending, 0), (pending, 0)],
        [(pending, 1), (pending, 1)],
        [(pending, 2), (pending, 2)],
        [(failed, 3), (failed, 3)],
        [(failed, 3), (failed, 3)],
    ]
    for row in rows:
        assert row.next_attempt_at is None
        assert row.last_error.startswith("ConnectionRefusedError")
    assert smtp.messages == []
