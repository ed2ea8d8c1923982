"""The Django admin's login asks for the TOTP code too, under the same lockout (issue 17)."""

import pytest
import time_machine

from tests.auth.mfa_flows import STEP, T0, code_at, enrol, now
from tests.factories import PASSWORD, make_staff
from users.models import LoginFailure


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def keeper(db):
    return make_staff(username="keeper")


def post_login(client, password: str = PASSWORD, code: str = ""):
    return client.post("/admin/login/?next=/admin/", {"username": "keeper", "password": password, "otp_code": code})


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_login_page_asks_for_the_code(client, db):
    page = client.get("/admin/login/")
    assert page.status_code == 200
    assert b'name="otp_code"' in page.content and b'autocomplete="one-time-code"' in page.content


def test_with_totp_on_the_password_alone_does_not_sign_in(client, gql, keeper, clock):
    secret, _codes = enrol(gql, keeper)
    clock.shift(STEP)
    # when only the password is posted, then the form asks for the code and nothing counts as a failure
    answer = post_login(client)
    assert b"Enter the code from your authenticator app." in answer.content
    assert not signed_in(client) and LoginFailure.objects.count() == 0
    # when a wrong code comes with it, then it is refused and counts towards the lockout
    wrong = post_login(client, code="000000")
    assert b"The code is incorrect or was already used." in wrong.content
    assert not signed_in(client) and LoginFailure.objects.count() == 1
    # when the right code comes with it, then the admin opens
    right = post_login(client, code=code_at(secret, now()))
    assert right.status_code == 302 and signed_in(client)


def test_with_totp_on_five_wrong_codes_lock_out_even_the_right_code(client, gql, keeper, clock):
    secret, _codes = enrol(gql, keeper)
    clock.shift(STEP)
    answers = [post_login(client, code="000000") for _ in range(5)]
    assert b"Too many failed login attempts" in answers[-1].content
    assert b"Too many failed login attempts" in post_login(client, code=code_at(secret, now())).content
    assert not signed_in(client)


def test_a_required_role_without_totp_is_told_to_enrol_first(client, keeper, settings):
    settings.MFA_REQUIRED_ROLES = frozenset({"STAFF"})
    answer = post_login(client)
    assert b"enrol an authenticator app" in answer.content
    assert not signed_in(client)


def test_without_totp_the_password_signs_in_as_before(client, keeper):
    assert post_login(client).status_code == 302 and signed_in(client)
