"""startTotpEnrollment, confirmTotpEnrollment and disableTotp (issue 17; DESIGN.md section 10)."""

from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.db import connection

from audit.models import Action, AuditEvent
from mfa.crypto import secret_decrypt
from mfa.models import RecoveryCode, TotpDevice
from mfa.services import recovery_code_digest
from tests.auth.mfa_flows import CONFIRM, DISABLE, START, STEP, T0, code_at, enrol, login, now
from tests.factories import PASSWORD


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def test_enrolment_starts_with_a_secret_and_an_otpauth_uri_kept_encrypted(gql, member, clock):
    # when the member starts enrolment
    started = gql.execute(START, user=member)
    # then the answer holds a base32 secret and the same in an otpauth:// URI for a QR code
    assert started.errors == []
    secret, uri = started.data["startTotpEnrollment"]["secret"], started.data["startTotpEnrollment"]["otpauthUri"]
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc, parts.path) == ("otpauth", "totp", "/Clinic:member")
    assert parse_qs(parts.query)["secret"] == [secret] and parse_qs(parts.query)["issuer"] == ["Clinic"]
    assert len(secret) == 32
    # and the database holds it encrypted only, not yet on
    device = TotpDevice.objects.get(user=member)
    assert secret not in device.secret_encrypted
    assert secret_decrypt(device.secret_encrypted) == secret
    assert device.confirmed_at is None
    # and a password alone still signs in
    assert login(gql, "member").data["tokenAuth"]["mfaRequired"] is False


def test_confirming_with_a_code_turns_totp_on_and_answers_ten_recovery_codes_kept_hashed(gql, member, clock):
    # when the member confirms with the app's current code
    secret, codes = enrol(gql, member)
    # then ten distinct recovery codes come back, stored only as digests
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = set(RecoveryCode.objects.filter(user=member).values_list("digest", flat=True))
    assert stored == {recovery_code_digest(code) for code in codes}
    assert not any(code in stored or code.replace("-", "") in stored for code in codes)
    # and TOTP is on: the password alone no longer signs in
    assert TotpDevice.objects.get(user=member).confirmed_at is not None
    assert login(gql, "member").data["tokenAuth"]["mfaRequired"] is True
    # and every step is audited
    actions = list(AuditEvent.objects.filter(actor=member).values_list("action", flat=True))
    assert Action.MFA_ENROLL_START in actions and Action.MFA_ENABLE in actions


def test_a_wrong_code_does_not_confirm_and_counts_as_a_failure(gql, member, clock):
    # given an enrolment started
    secret = gql.execute(START, user=member).data["startTotpEnrollment"]["secret"]
    # when a wrong code is sent (the one of two steps ago)
    wrong = gql.execute(CONFIRM, {"code": code_at(secret, now() - 2 * STEP)}, user=member)
    # then the code field is named and TOTP is still off
    assert (wrong.code, wrong.errors[0]["extensions"]["fields"]) == (
        "BAD_USER_INPUT",
        {"code": ["The code is incorrect or was already used."]},
    )
    assert TotpDevice.objects.get(user=member).confirmed_at is None
    # and the failure counts for the login lockout
    assert AuditEvent.objects.filter(actor=member, action=Action.MFA_FAILURE).count() == 1
    # and four more lock the member out from this IP, so that the right code is refused too
    assert [gql.execute(CONFIRM, {"code": "000000"}, user=member).code for _ in range(4)][-1] == "RATE_LIMITED"
    assert gql.execute(CONFIRM, {"code": code_at(secret, now())}, user=member).code == "RATE_LIMITED"


def test_confirming_without_an_enrolment_is_a_conflict(gql, member, clock):
    assert gql.execute(CONFIRM, {"code": "123456"}, user=member).code == "CONFLICT"


def test_starting_again_while_totp_is_on_is_a_conflict(gql, member, clock):
    enrol(gql, member)
    assert gql.execute(START, user=member).code == "CONFLICT"


def test_disabling_needs_the_password_and_a_code(gql, member, clock):
    secret, codes = enrol(gql, member)
    clock.shift(STEP)
    # when the password is wrong, then the password field is named
    wrong_password = gql.execute(DISABLE, {"password": "wrong", "code": code_at(secret, now())}, user=member)
    assert wrong_password.errors[0]["extensions"]["fields"] == {"password": ["The password is incorrect."]}
    # when the code is wrong, then the code field is named
    wrong_code = gql.execute(DISABLE, {"password": PASSWORD, "code": "000000"}, user=member)
    assert wrong_code.errors[0]["extensions"]["fields"] == {"code": ["The code is incorrect or was already used."]}
    assert TotpDevice.objects.filter(user=member).exists()
    # when both are right (a recovery code serves as the code), then TOTP and the recovery codes are gone
    done = gql.execute(DISABLE, {"password": PASSWORD, "code": codes[0]}, user=member)
    assert done.errors == [] and done.data == {"disableTotp": {"disabled": True}}
    assert not TotpDevice.objects.filter(user=member).exists()
    assert not RecoveryCode.objects.filter(user=member).exists()
    # and the password alone signs in again; it was audited
    assert login(gql, "member").data["tokenAuth"]["mfaRequired"] is False
    assert AuditEvent.objects.filter(actor=member, action=Action.MFA_DISABLE).count() == 1


def test_disabling_when_totp_is_off_is_a_conflict(gql, member, clock):
    assert gql.execute(DISABLE, {"password": PASSWORD, "code": "123456"}, user=member).code == "CONFLICT"


def test_anonymous_callers_cannot_enrol(gql, db):
    assert gql.execute(START).code == "UNAUTHENTICATED"
    assert gql.execute(CONFIRM, {"code": "123456"}).code == "UNAUTHENTICATED"
    assert gql.execute(DISABLE, {"password": PASSWORD, "code": "123456"}).code == "UNAUTHENTICATED"


def test_confirming_costs_a_fixed_number_of_queries(gql, member, clock, django_assert_num_queries):
    # given an enrolment started (and the caller's session, which is not the request's work)
    secret = gql.execute(START, user=member).data["startTotpEnrollment"]["secret"]
    # when it is confirmed, then the queries are pinned: the ten codes go in one INSERT (PostgreSQL adds
    # the advisory lock in its own savepoint: five statements)
    with django_assert_num_queries(13 if connection.vendor == "sqlite" else 18):
        confirmed = gql.execute(CONFIRM, {"code": code_at(secret, now())}, user=member)
    assert len(confirmed.data["confirmTotpEnrollment"]["recoveryCodes"]) == 10
