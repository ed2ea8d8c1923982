"""Staff see the outbox in the Django admin and can retry a failed row."""

import pytest
from django.core.exceptions import PermissionDenied

from care.models import Notification, NotificationStatus
from care.notifications import notification_retry
from tests import factories
from tests.notifications.conftest import worker_pass

CHANGELIST = "/admin/care/notification/"


@pytest.fixture
def failed_rows(smtp, settings) -> list[Notification]:
    # One attempt allowed and SMTP down: both rows of an assignment fail for good on the first pass.
    settings.NOTIFICATION_MAX_ATTEMPTS = 1
    doctor = factories.make_doctor()
    patient = factories.make_patient()
    factories.assign(doctor=doctor, patient=patient)
    assert worker_pass() == "0 sent, 0 to retry, 2 failed."
    return list(Notification.objects.filter(recipient__in=[doctor.user, patient.user]))


@pytest.mark.django_db(transaction=True)
def test_staff_see_failed_rows_with_status_attempts_and_error_and_can_retry_them(client, smtp, failed_rows):
    # given staff allowed to see and retry notifications
    assert {row.status for row in failed_rows} == {NotificationStatus.FAILED}
    staff = factories.make_staff(permissions=("view_notification", "change_notification"))
    client.force_login(staff)
    # when they list the failed ones
    listing = client.get(CHANGELIST, {"status__exact": "FAILED"})
    # then they see each row with its status, attempts and error
    assert listing.status_code == 200
    page = listing.content.decode()
    assert page.count("ConnectionRefusedError") == 2
    assert all(row.to_email in page for row in failed_rows)
    assert listing.context["cl"].result_count == 2
    searched = client.get(CHANGELIST, {"q": failed_rows[0].to_email})
    assert [row.pk for row in searched.context["cl"].result_list] == [failed_rows[0].pk]
    # when SMTP is back and they retry both
    smtp.start()
    response = client.post(
        CHANGELIST, {"action": "retry_notifications", "_selected_action": [str(row.pk) for row in failed_rows]}
    )
    # then the rows are queued again, and the worker's next pass sends them with one fresh attempt each
    assert response.status_code == 302
    assert smtp.messages == []
    assert worker_pass() == "2 sent, 0 to retry, 0 failed."
    assert sorted(message["To"] for message in smtp.messages) == sorted(row.to_email for row in failed_rows)
    for row in Notification.objects.filter(pk__in=[row.pk for row in failed_rows]):
        assert (row.status, row.attempts, row.last_error) == (NotificationStatus.SENT, 1, "")


@pytest.mark.django_db(transaction=True)
def test_staff_who_may_only_view_cannot_retry(client, smtp, failed_rows):
    # given staff with the view permission only
    viewer = factories.make_staff(permissions=("view_notification",))
    client.force_login(viewer)
    smtp.start()
    # when they try the action anyway, and the service directly
    client.post(CHANGELIST, {"action": "retry_notifications", "_selected_action": [str(failed_rows[0].pk)]})
    with pytest.raises(PermissionDenied):
        notification_retry(actor=viewer, notification=failed_rows[0])
    # then nothing moved
    assert worker_pass() == "0 sent, 0 to retry, 0 failed."
    assert client.get(CHANGELIST).status_code == 200
    assert set(Notification.objects.values_list("status", flat=True)) == {NotificationStatus.FAILED}
    assert smtp.messages == []


@pytest.mark.django_db(transaction=True)
def test_retrying_a_row_that_has_not_failed_does_nothing(smtp_up):
    # given a row already sent
    staff = factories.make_staff(permissions=("view_notification", "change_notification"))
    doctor = factories.make_doctor()
    factories.assign(doctor=doctor, patient=factories.make_patient())
    assert worker_pass() == "2 sent, 0 to retry, 0 failed."
    row = Notification.objects.get(recipient=doctor.user)
    # when
    retried = notification_retry(actor=staff, notification=row)
    # then
    assert retried is False
    row.refresh_from_db()
    assert (row.status, row.attempts) == (NotificationStatus.SENT, 1)
    assert len(smtp_up.messages_to(doctor.user.email)) == 1


@pytest.mark.django_db(transaction=True)
def test_a_doctor_with_the_staff_flag_cannot_retry(smtp, failed_rows):
    # given a doctor who somehow has the staff flag and the permission
    from django.contrib.auth.models import Permission

    doctor = factories.make_doctor().user
    doctor.is_staff = True
    doctor.save(update_fields=["is_staff"])
    doctor.user_permissions.add(Permission.objects.get(content_type__app_label="care", codename="change_notification"))
    # when they retry a failed row through the service
    with pytest.raises(PermissionDenied):
        notification_retry(actor=type(doctor).objects.get(pk=doctor.pk), notification=failed_rows[0])
    # then it stays failed: running notifications is staff work, never a doctor's
    failed_rows[0].refresh_from_db()
    assert failed_rows[0].status == NotificationStatus.FAILED
