"""`send_notifications --loop`: a worker that delivers, sleeps between passes, stops on a signal."""

import os
import signal
import threading
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection

from care.models import Notification, NotificationStatus
from tests import factories


def wake_up_mode(interval: int) -> str:
    if connection.vendor == "postgresql":
        return f"woken by PostgreSQL NOTIFY, polling every {interval}s"
    return f"polling every {interval}s"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_what_is_due_then_stops_cleanly_on_a_signal(smtp, signum):
    # given two queued rows, and SMTP up
    doctor = factories.make_doctor()
    patient = factories.make_patient()
    factories.assign(doctor=doctor, patient=patient)
    rows = list(Notification.objects.filter(recipient__in=[doctor.user, patient.user]))
    assert [row.status for row in rows] == [NotificationStatus.PENDING] * 2
    smtp.start()
    handlers_before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    running = threading.Event()

    def stop_the_worker_once_both_mails_arrived():
        smtp.handler.wait_for_accepted(2)
        if running.is_set():
            os.kill(os.getpid(), signum)

    stopper = threading.Thread(target=stop_the_worker_once_both_mails_arrived)
    out = StringIO()
    # when the worker runs (with a long idle interval: only the signal can end the wait)
    with time_machine.travel(max(row.next_attempt_at for row in rows) + timedelta(seconds=1)):
        running.set()
        stopper.start()
        try:
            call_command("send_notifications", "--loop", "--interval", "300", stdout=out)
        finally:
            running.clear()
    stopper.join()
    # then it delivered both, said so, and returned normally with the previous handlers back
    assert sorted(message["Message-ID"] for message in smtp.messages) == sorted(row.message_id for row in rows)
    assert out.getvalue().splitlines() == [
        f"Notification worker started ({wake_up_mode(300)}, batch 100).",
        "Notification worker stopped.",
        "2 sent, 0 to retry, 0 failed.",
    ]
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == handlers_before
    assert set(Notification.objects.filter(pk__in=[row.pk for row in rows]).values_list("status", flat=True)) == {
        NotificationStatus.SENT
    }


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--loop", "--interval", "0"], "--interval must be between 0.1 and 300 seconds."),
        (["--loop", "--interval", "301"], "--interval must be between 0.1 and 300 seconds."),
        (["--batch", "0"], "--batch must be at least 1."),
        (["--loop", "--backlog-warning", "0"], "--backlog-warning must be at least 1."),
    ],
)
def test_out_of_range_options_are_refused(arguments, message):
    # when / then
    with pytest.raises(CommandError, match=message):
        call_command("send_notifications", *arguments)


@pytest.mark.django_db(transaction=True)
def test_a_pass_sends_at_most_the_batch_size(smtp):
    # given four due rows
    for _ in range(2):
        factories.assign(doctor=factories.make_doctor(), patient=factories.make_patient())
    due = max(Notification.objects.values_list("next_attempt_at", flat=True))
    smtp.start()
    out = StringIO()
    # when
    with time_machine.travel(due + timedelta(seconds=1), tick=False):
        call_command("send_notifications", "--batch", "3", stdout=out)
    # then
    assert out.getvalue().strip() == "3 sent, 0 to retry, 0 failed."
    assert len(smtp.messages) == 3
    assert Notification.objects.filter(status=NotificationStatus.PENDING).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_backlog_warning_fires_at_the_threshold_and_clears_when_mail_flows(smtp, caplog, monkeypatch):
    # given four unsent rows (SMTP down), a threshold of three, and a check on every pass
    from care.management.commands import send_notifications as command

    monkeypatch.setattr(command, "BACKLOG_CHECK_SECONDS", 0)
    for _ in range(2):
        factories.assign(doctor=factories.make_doctor(), patient=factories.make_patient())
    watch = command.BacklogWatch(threshold=3)
    # when the worker looks, twice while it is high
    with caplog.at_level("INFO", logger=command.__name__):
        watch.check()
        watch.check()
    # then one warning (repeated only after BACKLOG_REPEAT_SECONDS), with counts and no recipient
    warnings = [record for record in caplog.records if record.levelname == "WARNING"]
    assert [record.getMessage().split(";")[0] for record in warnings] == [
        "notification backlog: 4 unsent (4 due, 0 waiting for a retry"
    ]
    assert "@" not in warnings[0].getMessage()
    # when the mail has gone out
    caplog.clear()
    Notification.objects.update(status=NotificationStatus.SENT, next_attempt_at=None)
    with caplog.at_level("INFO", logger=command.__name__):
        watch.check()
    # then it says so
    assert [record.getMessage() for record in caplog.records] == [
        "notification backlog back under the threshold: 0 unsent"
    ]
