"""acceptInvitation: sets the first password and signs in, once; wrong, used and expired tokens fail."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from audit.models import Action, AuditEvent, Outcome
from care.models import NotificationKind
from idempotency.models import IdempotencyKey
from tests.users.conftest import (
    ACCEPT,
    ME,
    NEW_PASSWORD,
    REGISTER_DOCTOR,
    REGISTER_PATIENT,
    REQUEST_RESET,
    TOKEN_AUTH,
    doctor_input,
    mailed_token,
    patient_input,
)
from users.models import AccountToken, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def invited(gql, registrar) -> User:
    assert gql.execute(REGISTER_PATIENT, {"input": patient_input()}, user=registrar).errors == []
    return User.objects.get(email="new.patient@clinic.example")


def accept(gql, token: str, password: str = NEW_PASSWORD):
    return gql.execute(ACCEPT, {"input": {"token": token, "password": password}})


def test_accepting_sets_the_password_and_signs_in(gql, invited):
    token = mailed_token(invited, NotificationKind.ACCOUNT_INVITATION)
    # when
    result = accept(gql, token)
    # then the answer is tokenAuth's, and its access token works
    assert result.errors == []
    payload = result.data["acceptInvitation"]
    assert payload["user"] == {"username": "new.patient@clinic.example", "role": "PATIENT"}
    assert payload["refreshToken"]
    assert gql.execute(ME, token=payload["token"]).data == {"me": {"username": "new.patient@clinic.example"}}
    # and the password signs in from now on
    login = gql.execute(TOKEN_AUTH, {"u": "new.patient@clinic.example", "p": NEW_PASSWORD})
    assert login.errors == []
    # and it is audited
    assert AuditEvent.objects.filter(actor=invited, action=Action.INVITATION_ACCEPT, outcome=Outcome.ALLOWED).exists()


def test_an_invitation_works_once(gql, invited):
    token = mailed_token(invited, NotificationKind.ACCOUNT_INVITATION)
    assert accept(gql, token).errors == []
    # when it is used again, with another password
    second = accept(gql, token, password="another-long-passphrase-9")
    # then
    assert second.code == "TOKEN_INVALID"
    assert second.data is None
    invited.refresh_from_db()
    assert invited.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action=Action.INVITATION_ACCEPT, outcome=Outcome.DENIED).count() == 1


def test_an_invitation_expires_after_72_hours(gql, invited):
    token = mailed_token(invited, NotificationKind.ACCOUNT_INVITATION)
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=72, seconds=1)):
        result = accept(gql, token)
    assert result.code == "TOKEN_EXPIRED"
    invited.refresh_from_db()
    assert not invited.has_usable_password()


def test_an_invitation_still_works_just_before_72_hours(gql, invited):
    token = mailed_token(invited, NotificationKind.ACCOUNT_INVITATION)
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=71, minutes=59)):
        assert accept(gql, token).errors == []


@pytest.mark.parametrize("token", ["", "not-a-token", "x" * 43])
def test_a_wrong_token_is_invalid(gql, invited, token):
    result = accept(gql, token)
    assert result.code == "TOKEN_INVALID"
    assert AuditEvent.objects.filter(action=Action.INVITATION_ACCEPT, outcome=Outcome.DENIED).count() == 1


def test_a_password_the_validators_refuse_leaves_the_invitation_usable(gql, invited):
    token = mailed_token(invited, NotificationKind.ACCOUNT_INVITATION)
    # when the password is too short, then too common, then like the address
    for weak in ("zq9k7", "password123", "new.patient@clinic.example"):
        result = accept(gql, token, password=weak)
        assert result.code == "BAD_USER_INPUT", weak
        assert list(result.errors[0]["extensions"]["fields"]) == ["password"]
        assert weak not in str(result.errors)
    # then the token still works with a good one
    assert accept(gql, token).errors == []


def test_the_database_keeps_only_a_digest(gql, invited):
    token = mailed_token(invited, NotificationKind.ACCOUNT_INVITATION)
    row = AccountToken.objects.get(user=invited)
    assert token not in row.digest and len(row.digest) == 64
    # a copy of the table is no way in: the digest itself is not a token
    assert accept(gql, row.digest).code == "TOKEN_INVALID"


def test_a_deactivated_account_cannot_accept(gql, invited):
    token = mailed_token(invited, NotificationKind.ACCOUNT_INVITATION)
    User.objects.filter(pk=invited.pk).update(is_active=False)
    assert accept(gql, token).code == "TOKEN_INVALID"


def test_the_answer_with_tokens_is_never_kept_for_an_idempotency_key(gql, invited, registrar):
    # given a signed-in caller (keys are per user) who accepts an invitation with an Idempotency-Key
    token = mailed_token(invited, NotificationKind.ACCOUNT_INVITATION)
    result = gql.execute(
        ACCEPT,
        {"input": {"token": token, "password": NEW_PASSWORD}},
        user=registrar,
        headers={"HTTP_IDEMPOTENCY_KEY": "accept-1"},
    )
    # then it ran, and its answer (an access and a refresh token) was not stored to be replayed
    assert result.errors == []
    assert not IdempotencyKey.objects.exists()
    # while a mutation without credentials in its answer is kept under its key (the check can fail)
    gql.execute(
        REQUEST_RESET,
        {"input": {"email": "x@clinic.example"}},
        user=registrar,
        headers={"HTTP_IDEMPOTENCY_KEY": "reset-1"},
    )
    assert IdempotencyKey.objects.filter(key="reset-1").exists()


def test_an_invited_doctor_whose_role_requires_mfa_gets_a_session_that_can_only_enrol(gql, registrar, settings):
    # given doctors must use TOTP, and a doctor was just invited
    settings.MFA_REQUIRED_ROLES = frozenset({"DOCTOR", "STAFF"})
    assert gql.execute(REGISTER_DOCTOR, {"input": doctor_input(username="dr.invited")}, user=registrar).errors == []
    token = mailed_token(User.objects.get(username="dr.invited"), NotificationKind.ACCOUNT_INVITATION)
    # when they accept the invitation
    result = gql.execute(
        "mutation ($input: AcceptInvitationInput!) { acceptInvitation(input: $input) { token payload } }",
        {"input": {"token": token, "password": NEW_PASSWORD}},
    )
    # then the session is enrol-only: the invitation is no way around the second factor
    assert result.errors == []
    assert result.data["acceptInvitation"]["payload"]["mfa"] == "enrol"
    assert gql.execute(ME, token=result.data["acceptInvitation"]["token"]).code == "MFA_REQUIRED"
