"""An invitation or reset token presented by several clients at the same moment is used exactly once.

Django's test client in threads released together by a barrier (tests.conftest.run_concurrently),
each on its own database connection: on SQLite (a file copy of the test database, as in
tests/auth/test_lockout_concurrency.py) and on PostgreSQL alike.
"""

import collections
import datetime
import queue

import pytest

from care.accounts import password_reset_request_mail, patient_register_with_invitation
from care.models import NotificationKind
from tests import factories
from tests.conftest import GraphQLClient, run_concurrently, threads_database
from tests.users.conftest import ACCEPT, RESET, TOKEN_AUTH, mailed_token, make_account_manager
from users.models import AccountToken, SessionFamily, User

CLIENTS = 8

pytestmark = pytest.mark.django_db(transaction=True)


def burst(document: str, token: str, password_field: str) -> dict[str, str | None]:
    """The same token from CLIENTS threads at once, each with its own password: password -> error code."""
    passwords: queue.Queue = queue.Queue()
    for n in range(CLIENTS):
        passwords.put(f"racing-passphrase-{n:02d}-xyz")

    def call(client: GraphQLClient):
        password = passwords.get_nowait()
        result = client.execute(document, {"input": {"token": token, password_field: password}})
        return password, result.code

    return dict(run_concurrently(CLIENTS, call))


def the_one_that_won(answers: dict[str, str | None]) -> str:
    assert collections.Counter(answers.values()) == {None: 1, "TOKEN_INVALID": CLIENTS - 1}, answers
    (winner,) = [password for password, code in answers.items() if code is None]
    return winner


def test_one_invitation_accepted_by_many_clients_at_once_signs_in_exactly_one(gql, tmp_path):
    # given an invited patient
    patient = patient_register_with_invitation(
        actor=make_account_manager(),
        email="racer@clinic.example",
        first_name="Rae",
        last_name="Cer",
        date_of_birth=datetime.date(1990, 1, 1),
        base_url="http://testserver/",
    )
    token = mailed_token(patient.user, NotificationKind.ACCOUNT_INVITATION)
    with threads_database(tmp_path):
        # when eight clients accept it at the same moment, each with another password
        answers = burst(ACCEPT, token, "password")
        # then exactly one is signed in, the others are told the link is used
        winner = the_one_that_won(answers)
        # and the password set is the winner's, with exactly one session started
        user = User.objects.get(pk=patient.user.pk)
        assert user.check_password(winner)
        assert SessionFamily.objects.filter(user=user).count() == 1
        assert AccountToken.objects.get(user=user).used_at is not None
        assert gql.execute(TOKEN_AUTH, {"u": "racer@clinic.example", "p": winner}).errors == []


def test_one_reset_link_used_by_many_clients_at_once_sets_exactly_one_password(tmp_path):
    # given a patient who asked for a reset link
    patient = factories.make_patient(username="resetter")
    password_reset_request_mail(email="resetter@clinic.example", ip="192.0.2.1", base_url="http://testserver/")
    token = mailed_token(patient.user, NotificationKind.PASSWORD_RESET)
    with threads_database(tmp_path):
        # when eight clients use it at the same moment
        answers = burst(RESET, token, "newPassword")
        # then exactly one password was set, and it is the one that answered success
        winner = the_one_that_won(answers)
        user = User.objects.get(pk=patient.user.pk)
        assert user.check_password(winner)
        assert not user.check_password(factories.PASSWORD)
