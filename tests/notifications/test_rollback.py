"""No row, no mail, when the transaction that caused a notification rolls back."""

import pytest
from django.db import transaction

from care.models import Assignment, Notification
from tests import factories
from tests.notifications.conftest import worker_pass


class Abort(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_assignment_leaves_no_row_and_sends_no_mail(smtp_up):
    # given
    staff = factories.make_staff()
    doctor = factories.make_doctor()
    patient = factories.make_patient()
    # when the assignment (and its outbox rows) is written, then its transaction fails
    with pytest.raises(Abort), transaction.atomic():
        factories.assign(doctor=doctor, patient=patient, by=staff)
        assert Notification.objects.filter(recipient__in=[doctor.user, patient.user]).count() == 2
        raise Abort
    # then nothing of it remains and nothing was mailed, even once the worker has run
    assert worker_pass() == "0 sent, 0 to retry, 0 failed."
    assert not Assignment.objects.filter(doctor=doctor, patient=patient).exists()
    assert not Notification.objects.filter(recipient__in=[doctor.user, patient.user]).exists()
    assert smtp_up.messages == []


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_assignment_end_sends_no_mail(smtp_up):
    # given an active assignment whose two mails went out
    staff = factories.make_staff()
    doctor = factories.make_doctor()
    patient = factories.make_patient()
    assignment = factories.assign(doctor=doctor, patient=patient, by=staff)
    assert worker_pass() == "2 sent, 0 to retry, 0 failed."
    assert len(smtp_up.messages) == 2
    # when ending it rolls back
    with pytest.raises(Abort), transaction.atomic():
        factories.end(assignment, by=staff)
        raise Abort
    # then only the first two rows and mails exist, even once the worker has run
    assert worker_pass() == "0 sent, 0 to retry, 0 failed."
    assert Notification.objects.filter(recipient__in=[doctor.user, patient.user]).count() == 2
    assert len(smtp_up.messages) == 2
    assert Assignment.objects.get(pk=assignment.pk).ended_at is None
