"""SMTP down: the request still succeeds, the rows wait, and the worker delivers them later."""

from datetime import timedelta
from email import message_from_bytes, policy
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from care.models import Notification, NotificationStatus
from tests import factories
from tests.conftest import global_id
from tests.notifications.processes import (
    Worker,
    assign_everyone,
    mail_env,
    seed_and_login,
    server_database,
    start_server,
)
from tests.ops.servers import MailCatcher, free_port, production_env

ASSIGN = "mutation ($input: AssignDoctorInput!) { assignDoctor(input: $input) { active } }"


def send_notifications() -> str:
    out = StringIO()
    call_command("send_notifications", stdout=out)
    return out.getvalue().strip()


@pytest.mark.django_db(transaction=True)
def test_smtp_down_then_up_the_worker_delivers_each_notification_exactly_once(gql, smtp, settings):
    # given SMTP is down (nothing listens on its port)
    staff = factories.make_staff()
    doctor = factories.make_doctor()
    patient = factories.make_patient()
    variables = {"input": {"doctorId": global_id("Doctor", doctor.pk), "patientId": global_id("Patient", patient.pk)}}
    before = timezone.now()
    # when
    result = gql.execute(ASSIGN, variables, user=staff)
    # then the mutation succeeded (it never talks to SMTP)
    assert result.errors == []
    assert result.data == {"assignDoctor": {"active": True}}
    # when the worker's first pass finds SMTP down
    assert send_notifications() == "0 sent, 2 to retry, 0 failed."
    # then each row waits with the error, one attempt counted, a retry time within the first backoff step
    rows = list(Notification.objects.filter(recipient__in=[doctor.user, patient.user]))
    assert len(rows) == 2
    first_step = timedelta(seconds=settings.NOTIFICATION_BACKOFF_BASE_SECONDS)
    for row in rows:
        assert row.status == NotificationStatus.PENDING
        assert row.attempts == 1
        assert row.last_error.startswith("ConnectionRefusedError")
        assert before + first_step / 2 <= row.next_attempt_at <= timezone.now() + first_step
        assert (row.claimed_by, row.claimed_until) == ("", None)

    # when SMTP comes back, a pass before the retry time sends nothing (the backoff holds)
    smtp.start()
    assert send_notifications() == "0 sent, 0 to retry, 0 failed."
    assert smtp.messages == []
    # and a pass once the retries are due sends each row, a second pass nothing more
    with time_machine.travel(max(row.next_attempt_at for row in rows) + timedelta(seconds=1), tick=False):
        assert send_notifications() == "2 sent, 0 to retry, 0 failed."
        assert send_notifications() == "0 sent, 0 to retry, 0 failed."
    # then exactly one mail per row, carrying the row's Message-ID
    assert sorted(message["Message-ID"] for message in smtp.messages) == sorted(row.message_id for row in rows)
    assert sorted(message["To"] for message in smtp.messages) == sorted([doctor.user.email, patient.user.email])
    for row in Notification.objects.filter(pk__in=[row.pk for row in rows]):
        assert (row.status, row.attempts, row.last_error) == (NotificationStatus.SENT, 2, "")


@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_deliver_every_queued_mail_exactly_once_when_smtp_comes_back(tmp_path):
    # given mail queued through the API while nothing listens on the SMTP port
    url, outbox = server_database(tmp_path)
    smtp_port = free_port(set())
    env = production_env(
        DATABASE_URL=url,
        STATIC_ROOT=str(tmp_path / "static"),
        WEB_CONCURRENCY="1",
        NOTIFICATION_BACKOFF_BASE_SECONDS="1",
        NOTIFICATION_BACKOFF_MAX_SECONDS="2",
        NOTIFICATION_MAX_ATTEMPTS="1000",
        **mail_env(smtp_port, EMAIL_TIMEOUT="10"),
    )
    server = start_server("api", env, tmp_path, {smtp_port})
    try:
        assign_everyone(server, seed_and_login(server, env))
    finally:
        server.stop()
    rows = outbox.all()
    assert len(rows) >= 10 and {row.status for row in rows} == {"PENDING"}
    # when two outbox workers run through the outage, each failing attempts for a while
    workers = [
        Worker(name, env, tmp_path / f"{name}.log", "--interval", "0.2", "--backlog-warning", "5")
        for name in ("worker-1", "worker-2")
    ]
    try:
        outbox.wait_until(
            lambda now: all(row.attempts >= 2 for row in now), "every row tried twice while SMTP is down"
        )
        # and SMTP comes back on its port
        with MailCatcher(smtp_port) as mail:
            outbox.wait_until(lambda now: {row.status for row in now} == {"SENT"}, "every row sent")
            # (stopped while SMTP is still up, so a late duplicate would still be seen)
            assert [worker.stop() for worker in workers] == [0, 0]
            accepted = list(mail.accepted)
    finally:
        for worker in workers:
            worker.kill()
    # then each mail arrived exactly once, under its row's Message-ID
    message_ids = [message_from_bytes(raw, policy=policy.default)["Message-ID"] for raw in accepted]
    assert sorted(message_ids) == sorted(row.message_id for row in rows)
    # and the workers said what they did, and warned about the backlog during the outage
    logs = [worker.log() for worker in workers]
    summaries = [log.strip().splitlines()[-1] for log in logs]
    assert sum(int(summary.split()[0]) for summary in summaries) == len(rows), summaries
    assert any("notification backlog:" in log for log in logs)
    print(f"\n{len(rows)} mails after the outage; per worker: {summaries}")
