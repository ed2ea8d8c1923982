"""requestPasswordReset answers alike for known and unknown addresses (body and queries); the link
works once for 30 minutes; resetPassword ends every session; requests are limited per address and IP."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from audit.models import Action, AuditEvent, Outcome
from care.models import Notification, NotificationKind
from tests import factories
from tests.conftest import is_postgres
from tests.users.conftest import ME, NEW_PASSWORD, REFRESH, REQUEST_RESET, RESET, TOKEN_AUTH, mailed_token
from users.models import AccountToken

pytestmark = pytest.mark.django_db

# Per request, known address or not: the rate-limit count, the lookup, ending older links, the
# token row, the outbox row (or, for an unknown address, a lookup in its place), the audit row
# and its chain; plus the advisory lock and the outbox NOTIFY on PostgreSQL.
QUERIES = 10 if not is_postgres() else 12


def request_reset(gql, email: str, ip: str = "198.51.100.7"):
    return gql.execute(REQUEST_RESET, {"input": {"email": email}}, headers={"REMOTE_ADDR": ip})


def reset(gql, token: str, password: str = NEW_PASSWORD):
    return gql.execute(RESET, {"input": {"token": token, "newPassword": password}})


@pytest.fixture
def alice(db):
    return factories.make_patient(username="alice").user


def test_a_known_and_an_unknown_address_get_the_same_answer_and_only_the_known_one_a_mail(
    gql, alice, django_assert_num_queries
):
    # when both are asked for, each from an IP of its own, with the queries counted
    with django_assert_num_queries(QUERIES) as known_queries:
        known = request_reset(gql, "alice@clinic.example", ip="198.51.100.1")
    with django_assert_num_queries(QUERIES) as unknown_queries:
        unknown = request_reset(gql, "nobody@clinic.example", ip="198.51.100.2")
    # then the answers are byte for byte the same
    assert known.status_code == unknown.status_code == 200
    assert known.body == unknown.body == {"data": {"requestPasswordReset": {"accepted": True}}}
    # and so are the statements, but for the outbox row's INSERT (a lookup by key for nobody)
    known_kinds = [query["sql"].split()[0] for query in known_queries.captured_queries]
    unknown_kinds = [query["sql"].split()[0] for query in unknown_queries.captured_queries]
    assert len(known_kinds) == len(unknown_kinds)
    assert [k for k, u in zip(known_kinds, unknown_kinds, strict=True) if k != u] == ["INSERT"]
    # and only alice gets a mail, with a link valid 30 minutes
    (mail,) = Notification.objects.filter(kind=NotificationKind.PASSWORD_RESET)
    assert mail.recipient == alice and "/reset-password?token=" in mail.body
    assert "30 minutes" in mail.body
    # and both requests are audited alike (no actor: the caller is not signed in)
    assert AuditEvent.objects.filter(action=Action.PASSWORD_RESET_REQUEST, actor=None).count() == 2


def test_the_link_sets_a_new_password_once_and_ends_every_session(gql, alice):
    # given alice signed in twice (two sessions, each with an access and a refresh token)
    first = gql.execute(TOKEN_AUTH, {"u": "alice", "p": factories.PASSWORD}).data["tokenAuth"]
    second = gql.execute(TOKEN_AUTH, {"u": "alice", "p": factories.PASSWORD}).data["tokenAuth"]
    assert gql.execute(ME, token=first["token"]).errors == []
    request_reset(gql, "alice@clinic.example")
    token = mailed_token(alice, NotificationKind.PASSWORD_RESET)
    # when she resets her password
    result = reset(gql, token)
    # then
    assert result.errors == []
    assert result.data == {"resetPassword": {"reset": True}}
    # and every access token and refresh token of hers has stopped working at once
    for session in (first, second):
        assert gql.execute(ME, token=session["token"]).code == "TOKEN_REVOKED"
        assert gql.execute(REFRESH, {"r": session["refreshToken"]}).code == "TOKEN_REVOKED"
    # and only the new password signs in
    assert gql.execute(TOKEN_AUTH, {"u": "alice", "p": factories.PASSWORD}).code == "UNAUTHENTICATED"
    assert gql.execute(TOKEN_AUTH, {"u": "alice", "p": NEW_PASSWORD}).errors == []
    # and the link does not work twice
    assert reset(gql, token, password="yet-another-passphrase-7").code == "TOKEN_INVALID"
    assert AuditEvent.objects.filter(action=Action.PASSWORD_RESET, actor=alice, outcome=Outcome.ALLOWED).count() == 1
    assert AuditEvent.objects.filter(action=Action.PASSWORD_RESET, outcome=Outcome.DENIED).count() == 1


def test_the_link_expires_after_30_minutes(gql, alice):
    request_reset(gql, "alice@clinic.example")
    token = mailed_token(alice, NotificationKind.PASSWORD_RESET)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=30, seconds=1)):
        assert reset(gql, token).code == "TOKEN_EXPIRED"
    alice.refresh_from_db()
    assert alice.check_password(factories.PASSWORD)


def test_a_newer_link_replaces_the_older_one(gql, alice):
    request_reset(gql, "alice@clinic.example")
    older = mailed_token(alice, NotificationKind.PASSWORD_RESET)
    request_reset(gql, "alice@clinic.example")
    newer = mailed_token(alice, NotificationKind.PASSWORD_RESET)
    assert reset(gql, older).code in ("TOKEN_EXPIRED", "TOKEN_INVALID")
    assert reset(gql, newer).errors == []


def test_the_validators_apply_and_a_refused_password_keeps_the_link(gql, alice):
    request_reset(gql, "alice@clinic.example")
    token = mailed_token(alice, NotificationKind.PASSWORD_RESET)
    result = reset(gql, token, password="alice")
    assert result.code == "BAD_USER_INPUT"
    assert list(result.errors[0]["extensions"]["fields"]) == ["newPassword"]
    assert reset(gql, token).errors == []


def test_a_wrong_token_is_invalid_and_an_unknown_addresss_token_redeems_nothing(gql, alice):
    assert reset(gql, "not-a-token").code == "TOKEN_INVALID"
    # the row written for an unknown address is bound to nobody: even its digest's preimage, were it
    # known, would not redeem it (the clear value was never mailed; this checks the query, not luck)
    request_reset(gql, "nobody@clinic.example")
    assert AccountToken.objects.filter(user=None).count() == 1


def test_a_deactivated_account_gets_no_mail_and_its_old_link_fails(gql, alice):
    request_reset(gql, "alice@clinic.example")
    token = mailed_token(alice, NotificationKind.PASSWORD_RESET)
    type(alice).objects.filter(pk=alice.pk).update(is_active=False)
    assert reset(gql, token).code == "TOKEN_INVALID"
    assert request_reset(gql, "alice@clinic.example").body == {"data": {"requestPasswordReset": {"accepted": True}}}
    assert Notification.objects.filter(kind=NotificationKind.PASSWORD_RESET).count() == 1


def test_requests_are_limited_per_address_known_or_not(gql, alice, settings):
    settings.PASSWORD_RESET_PER_ADDRESS = 3
    for address in ("alice@clinic.example", "nobody@clinic.example"):
        answers = [request_reset(gql, address, ip=f"203.0.113.{n}") for n in range(4)]
        assert [answer.code for answer in answers] == [None, None, None, "RATE_LIMITED"], address
        retry_after = answers[-1].errors[0]["extensions"]["retryAfter"]
        assert 3500 < retry_after <= 3600
    # the address in other case is the same address
    assert request_reset(gql, "ALICE@clinic.example", ip="203.0.113.99").code == "RATE_LIMITED"
    assert Notification.objects.filter(kind=NotificationKind.PASSWORD_RESET).count() == 3
    # and an hour later it may ask again
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=61)):
        assert request_reset(gql, "alice@clinic.example").code is None


def test_requests_are_limited_per_ip(gql, alice, settings):
    settings.PASSWORD_RESET_PER_IP = 5
    answers = [request_reset(gql, f"person{n}@clinic.example", ip="192.0.2.50") for n in range(6)]
    assert [answer.code for answer in answers] == [None] * 5 + ["RATE_LIMITED"]
    # another IP is not held back
    assert request_reset(gql, "alice@clinic.example", ip="192.0.2.51").code is None


def test_someone_whose_invitation_expired_gets_in_through_a_reset(gql, db):
    # given an invited patient whose 72 hours are over
    from care.accounts import patient_register_with_invitation
    from tests.users.conftest import make_account_manager

    patient = patient_register_with_invitation(
        actor=make_account_manager(),
        email="late@clinic.example",
        first_name="Lee",
        last_name="Late",
        date_of_birth=datetime.date(1970, 1, 1),
    )
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=73)):
        # when they ask for a reset instead
        request_reset(gql, "late@clinic.example")
        token = mailed_token(patient.user, NotificationKind.PASSWORD_RESET)
        # then it sets their first password
        assert reset(gql, token).errors == []
        assert gql.execute(TOKEN_AUTH, {"u": "late@clinic.example", "p": NEW_PASSWORD}).errors == []
