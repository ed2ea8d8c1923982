"""SMTP down: the request still succeeds, the rows wait, and the worker delivers them later."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from care.models import Notification, NotificationStatus
from tests import factories
from tests.conftest import global_id

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
