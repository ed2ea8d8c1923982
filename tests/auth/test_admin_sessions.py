"""The Django admin path: deactivating a user or setting their password ends their sessions."""

import pytest

from tests.auth.conftest import ME, login_ok, refresh
from users.models import User
from users.services import user_create


@pytest.fixture
def admin_client(client, db):
    admin = user_create(username="root", email="root@clinic.example", password="root-password-2026", is_staff=True)
    User.objects.filter(pk=admin.pk).update(is_superuser=True)
    client.force_login(User.objects.get(pk=admin.pk))
    return client


def test_unticking_active_in_the_admin_ends_every_token(gql, member, admin_client):
    # given a session of the member
    session = login_ok(gql, "member")
    # when an admin unticks "active" on the user's change form
    user = User.objects.get(pk=member.pk)
    response = admin_client.post(
        f"/admin/users/user/{user.pk}/change/",
        {
            "username": user.username, "email": user.email, "first_name": user.first_name,
            "last_name": user.last_name, "is_active": "", "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00", "initial-date_joined_0": "2026-01-01", "initial-date_joined_1": "00:00:00",
        },
    )
    # then the change was saved, and the access and refresh tokens fail at once
    assert response.status_code == 302, response.content[:2000]
    assert User.objects.get(pk=member.pk).is_active is False
    assert gql.execute(ME, token=session["token"]).data is None
    assert refresh(gql, session["refreshToken"]).code == "TOKEN_REVOKED"


def test_setting_a_password_in_the_admin_ends_every_token(gql, member, admin_client):
    # given a session of the member
    session = login_ok(gql, "member")
    # when an admin sets a new password for them
    response = admin_client.post(
        f"/admin/users/user/{member.pk}/password/",
        {
            "password1": "admin-chosen-passphrase-77",
            "password2": "admin-chosen-passphrase-77",
            "usable_password": "true",
        },
    )
    # then the old tokens fail, and the new password signs in
    assert response.status_code == 302, response.content[:2000]
    assert gql.execute(ME, token=session["token"]).code == "TOKEN_REVOKED"
    assert refresh(gql, session["refreshToken"]).code == "TOKEN_REVOKED"
    assert login_ok(gql, "member", "admin-chosen-passphrase-77")["user"] == {"username": "member"}
