"""users.step_up.step_up_verify: the password re-check that sensitive acts call, under the login lockout."""

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from tests import factories
from tests.auth.mfa_flows import STEP, T0, code_at, enrol, now
from users.errors import MfaRequired, RateLimited
from users.models import LoginFailure
from users.step_up import step_up_verify


def a_request(ip: str = "198.51.100.7"):
    return RequestFactory().post("/graphql/", REMOTE_ADDR=ip)


def test_the_right_password_passes(member):
    # when the member re-enters the right password
    # then nothing is raised and no failure is recorded
    step_up_verify(user=member, password=factories.PASSWORD, code=None, request=a_request())
    assert LoginFailure.objects.count() == 0


def test_a_wrong_password_is_bad_input_and_counts_as_a_login_failure(member):
    # when the member re-enters a wrong password
    with pytest.raises(ValidationError) as raised:
        step_up_verify(user=member, password="wrong-password", code=None, request=a_request())
    # then the error names the password field
    assert raised.value.message_dict == {"password": ["The password is incorrect."]}
    # and the failure counts for both limits: the per-username budget and the username+IP pair
    assert LoginFailure.objects.count() == 1
    assert AccessAttempt.objects.get(username="member").failures_since_start == 1


def test_the_fifth_wrong_password_locks_out_and_then_even_the_right_one_is_refused(member):
    # given four wrong passwords
    for _ in range(4):
        with pytest.raises(ValidationError):
            step_up_verify(user=member, password="wrong-password", code=None, request=a_request())
    # when a fifth follows, then it locks the username out from that IP
    with pytest.raises(RateLimited) as raised:
        step_up_verify(user=member, password="wrong-password", code=None, request=a_request())
    assert raised.value.retry_after > 0
    # and the right password is refused too, without being checked
    with pytest.raises(RateLimited):
        step_up_verify(user=member, password=factories.PASSWORD, code=None, request=a_request())


def test_another_users_password_does_not_pass(member):
    # given another account whose password is the same
    factories.make_patient(username="other")
    # when the member's step-up is given a password: it is checked against the member's account only
    step_up_verify(user=member, password=factories.PASSWORD, code=None, request=a_request())
    member.set_password("changed-password-123")
    member.save(update_fields=["password"])
    with pytest.raises(ValidationError):
        step_up_verify(user=member, password=factories.PASSWORD, code=None, request=a_request())


# --- with TOTP on: the code is checked too ---------------------------------------------------------


@pytest.fixture
def enrolled(gql, member):
    with time_machine.travel(T0, tick=False) as clock:
        secret, recovery_codes = enrol(gql, member)
        clock.shift(STEP)
        yield secret, recovery_codes


def test_with_totp_on_the_password_alone_is_not_enough(member, enrolled):
    # when no code is sent, then MFA_REQUIRED, and nothing counts as a failure
    with pytest.raises(MfaRequired):
        step_up_verify(user=member, password=factories.PASSWORD, code=None, request=a_request())
    assert LoginFailure.objects.count() == 0


def test_with_totp_on_a_wrong_code_is_bad_input_and_counts_as_a_login_failure(member, enrolled):
    with pytest.raises(ValidationError) as raised:
        step_up_verify(user=member, password=factories.PASSWORD, code="000000", request=a_request())
    assert raised.value.message_dict == {"code": ["The code is incorrect or was already used."]}
    assert LoginFailure.objects.count() == 1
    assert AccessAttempt.objects.get(username="member").failures_since_start == 1


def test_with_totp_on_the_current_code_passes_once(member, enrolled):
    secret, _codes = enrolled
    code = code_at(secret, now())
    step_up_verify(user=member, password=factories.PASSWORD, code=code, request=a_request())
    # and the same code again is a replay
    with pytest.raises(ValidationError):
        step_up_verify(user=member, password=factories.PASSWORD, code=code, request=a_request())


def test_with_totp_on_a_recovery_code_passes_once(member, enrolled):
    _secret, codes = enrolled
    step_up_verify(user=member, password=factories.PASSWORD, code=codes[0], request=a_request())
    with pytest.raises(ValidationError):
        step_up_verify(user=member, password=factories.PASSWORD, code=codes[0], request=a_request())


def test_with_totp_on_five_wrong_codes_lock_out_even_the_right_code(member, enrolled):
    secret, _codes = enrolled
    for _ in range(4):
        with pytest.raises(ValidationError):
            step_up_verify(user=member, password=factories.PASSWORD, code="000000", request=a_request())
    with pytest.raises(RateLimited):
        step_up_verify(user=member, password=factories.PASSWORD, code="000000", request=a_request())
    with pytest.raises(RateLimited):
        step_up_verify(user=member, password=factories.PASSWORD, code=code_at(secret, now()), request=a_request())
