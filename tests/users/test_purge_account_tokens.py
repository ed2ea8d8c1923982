"""purge_account_tokens deletes used and expired tokens once they no longer count towards a limit."""

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from care.accounts import password_reset_request_mail
from tests import factories
from users.models import AccountToken

pytestmark = pytest.mark.django_db


def purge() -> str:
    out = io.StringIO()
    call_command("purge_account_tokens", stdout=out)
    return out.getvalue().strip()


def test_tokens_go_once_they_neither_work_nor_count(settings):
    factories.make_patient(username="alice")
    start = timezone.now()
    # given two reset requests (one for nobody) and, 50 minutes later, a third
    for email in ("alice@clinic.example", "nobody@clinic.example"):
        password_reset_request_mail(email=email, ip="192.0.2.9")
    with time_machine.travel(start + datetime.timedelta(minutes=50)):
        password_reset_request_mail(email="alice@clinic.example", ip="192.0.2.9")
    # when purged while the first two still count towards the hour's limit: nothing goes
    with time_machine.travel(start + datetime.timedelta(minutes=59)):
        assert purge() == "Deleted 0 used or expired account tokens."
    # then, once they expired more than the window ago, the first two go and the third stays
    with time_machine.travel(start + datetime.timedelta(minutes=91)):
        assert purge() == "Deleted 2 used or expired account tokens."
    assert AccountToken.objects.count() == 1
