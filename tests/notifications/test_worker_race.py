"""Workers running at once never send the same row twice, and a dead worker's claim expires."""

import os
import subprocess
import sys
import threading
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from care.models import Notification, NotificationStatus
from tests import factories
from tests.conftest import requires_postgres
from tests.notifications.conftest import SAFETY_TIMEOUT

ROWS = 20  # two per assignment


def pending_rows(count: int) -> list[Notification]:
    """`count` queued rows, due now, that no worker has tried yet."""
    staff = factories.make_staff()
    doctor = factories.make_doctor()
    for _ in range(count // 2):
        factories.assign(doctor=doctor, patient=factories.make_patient(), by=staff)
    rows = list(Notification.objects.filter(status=NotificationStatus.PENDING))
    assert len(rows) == count and {row.attempts for row in rows} == {0}
    return rows


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_deliver_each_row_exactly_once(smtp):
    # given twenty due rows, and an SMTP server that holds the first mail until a second is in flight
    rows = pending_rows(ROWS)
    smtp.handler.rendezvous = 2
    smtp.start()
    barrier = threading.Barrier(2)
    outputs, failures = [], []

    def worker():
        try:
            out = StringIO()
            barrier.wait(timeout=SAFETY_TIMEOUT)
            call_command("send_notifications", stdout=out)
            outputs.append(out.getvalue().strip())
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)
        finally:
            connection.close()  # each thread had its own connection

    # when two workers, each with its own database connection, start at the same moment
    with time_machine.travel(max(row.next_attempt_at for row in rows) + timedelta(seconds=1), tick=False):
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=SAFETY_TIMEOUT * 2)
    # then both delivered (they had mails in flight together), together every row, each once
    assert failures == []
    sent = sorted(int(output.split()[0]) for output in outputs)
    assert len(sent) == 2 and sent[0] >= 1 and sum(sent) == ROWS
    message_ids = [message["Message-ID"] for message in smtp.messages]
    assert len(message_ids) == ROWS
    assert sorted(message_ids) == sorted(row.message_id for row in rows)
    # and each row was claimed once: no second claim on any row
    assert set(Notification.objects.values_list("status", "attempts")) == {(NotificationStatus.SENT, 1)}


def worker_process_env(smtp_port: int) -> dict[str, str]:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "clinic.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_TIMEOUT": str(SAFETY_TIMEOUT * 2),
    }


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_row_claimed_by_a_worker_that_died_is_sent_again_after_its_lease_with_the_same_message_id(smtp, settings):
    # given two rows due at once (no backoff), and an SMTP server that holds the first mail unanswered
    settings.NOTIFICATION_BACKOFF_BASE_SECONDS = 0
    rows = pending_rows(2)
    smtp.handler.hold = True
    smtp.start()
    # when a worker process claims one, sends it, and is killed before it hears back
    worker = subprocess.Popen(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "send_notifications"],
        cwd=Path(django_settings.BASE_DIR),
        env=worker_process_env(smtp.port),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert smtp.handler.holding.wait(SAFETY_TIMEOUT), worker.stderr.read1().decode()
    finally:
        worker.kill()
        worker.wait()
    [held] = smtp.handler.held
    claimed = Notification.objects.get(claimed_by__gt="")
    assert claimed.message_id.encode() in held
    assert claimed.attempts == 1
    assert claimed.claimed_until > timezone.now()
    # and a healthy worker runs while that claim's lease still holds
    out = StringIO()
    call_command("send_notifications", stdout=out)
    # then it sends only the other row
    assert out.getvalue().strip() == "1 sent, 0 to retry, 0 failed."
    [other] = [row for row in rows if row.pk != claimed.pk]
    assert [message["Message-ID"] for message in smtp.messages] == [other.message_id]
    # when the lease has run out
    with time_machine.travel(claimed.claimed_until + timedelta(seconds=1), tick=False):
        out = StringIO()
        call_command("send_notifications", stdout=out)
    # then the abandoned row goes out, under the Message-ID of the attempt that died
    assert out.getvalue().strip() == "1 sent, 0 to retry, 0 failed."
    assert [message["Message-ID"] for message in smtp.messages] == [other.message_id, claimed.message_id]
    claimed.refresh_from_db()
    assert (claimed.status, claimed.attempts, claimed.claimed_by) == (NotificationStatus.SENT, 2, "")


@pytest.mark.django_db(transaction=True)
def test_a_row_claimed_by_a_busy_worker_is_not_sent_by_another(smtp, settings):
    # given two rows due at once (no backoff), and an SMTP server that holds the first mail
    settings.NOTIFICATION_BACKOFF_BASE_SECONDS = 0
    rows = pending_rows(2)
    smtp.handler.hold = True
    smtp.start()
    outputs = []

    def busy_worker():
        try:
            out = StringIO()
            call_command("send_notifications", stdout=out)
            outputs.append(out.getvalue().strip())
        finally:
            connection.close()

    # when a first worker has claimed a row and is stuck sending it
    first = threading.Thread(target=busy_worker)
    first.start()
    assert smtp.handler.holding.wait(SAFETY_TIMEOUT)
    claimed = Notification.objects.get(claimed_by__gt="")
    # and a second worker runs meanwhile
    out = StringIO()
    call_command("send_notifications", stdout=out)
    # then the second sent only the other row
    assert out.getvalue().strip() == "1 sent, 0 to retry, 0 failed."
    [other] = [row for row in rows if row.pk != claimed.pk]
    assert [message["Message-ID"] for message in smtp.messages] == [other.message_id]
    # when the first worker's mail goes through
    smtp.handler.release.set()
    first.join(SAFETY_TIMEOUT)
    # then it settled its own row, and each row went out exactly once
    assert outputs == ["1 sent, 0 to retry, 0 failed."]
    assert sorted(message["Message-ID"] for message in smtp.messages) == sorted(row.message_id for row in rows)
    assert set(Notification.objects.values_list("status", "attempts", "claimed_by")) == {
        (NotificationStatus.SENT, 1, "")
    }
