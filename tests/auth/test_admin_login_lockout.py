"""The admin login form is behind the API's lockout, in the same critical section (users.lockout)."""

import pytest
from axes.models import AccessAttempt

from tests.auth.conftest import login
from tests.factories import PASSWORD, make_staff

WRONG = "wrong-password"


@pytest.fixture
def keeper(db):
    return make_staff(username="keeper")


def post_login(client, password: str):
    return client.post("/admin/login/?next=/admin/", {"username": "keeper", "password": password})


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_five_wrong_passwords_lock_the_admin_login_even_for_the_right_one(client, keeper):
    # when five wrong passwords are posted to the admin login form
    answers = [post_login(client, WRONG) for _ in range(5)]
    # then the first four are plain failures and the fifth says the account is locked out
    assert [response.status_code for response in answers] == [200] * 5
    assert all(b"Please enter the correct username" in response.content for response in answers[:4])
    assert b"Too many failed login attempts" in answers[4].content
    # and the right password is refused now, without signing in
    refused = post_login(client, PASSWORD)
    assert refused.status_code == 200
    assert b"Too many failed login attempts" in refused.content
    assert not signed_in(client)


def test_the_admin_form_and_the_api_share_one_count(client, gql, keeper):
    # when three failures come through the API and two through the admin form, from one IP
    assert [login(gql, "keeper", WRONG).code for _ in range(3)] == ["UNAUTHENTICATED"] * 3
    post_login(client, WRONG)
    assert b"Too many failed login attempts" in post_login(client, WRONG).content
    # then the pair is locked for both
    assert login(gql, "keeper").code == "RATE_LIMITED"


def test_an_admin_sign_in_resets_the_count(client, gql, keeper):
    # given four failures
    for _ in range(4):
        post_login(client, WRONG)
    # when the right password is posted
    response = post_login(client, PASSWORD)
    # then the admin signs in, and the count starts again
    assert (response.status_code, response.url) == (302, "/admin/")
    assert signed_in(client)
    assert not AccessAttempt.objects.filter(username="keeper").exists()
    assert [login(gql, "keeper", WRONG).code for _ in range(4)] == ["UNAUTHENTICATED"] * 4
