"""Account lifecycle fixtures: a staff member who may register and deactivate accounts, and the documents."""

import re

import pytest
from django.contrib.auth.models import Permission

from care.models import Notification, NotificationKind
from tests import factories
from tests.notifications.conftest import smtp, smtp_up  # noqa: F401 - the real SMTP server, for tests here too
from users.models import User

REGISTER_PATIENT = """
mutation Register($input: RegisterPatientInput!) {
  registerPatient(input: $input) { user { id username email role isActive patient { id } } }
}"""
REGISTER_DOCTOR = """
mutation Register($input: RegisterDoctorInput!) {
  registerDoctor(input: $input) { user { id username email role doctor { specialty } } }
}"""
ACCEPT = """
mutation Accept($input: AcceptInvitationInput!) {
  acceptInvitation(input: $input) { token refreshToken user { username role } }
}"""
REQUEST_RESET = """
mutation Request($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { accepted } }"""
RESET = "mutation Reset($input: ResetPasswordInput!) { resetPassword(input: $input) { reset } }"
DEACTIVATE = "mutation Deactivate($input: DeactivateUserInput!) { deactivateUser(input: $input) { isActive } }"
REACTIVATE = "mutation Reactivate($input: ReactivateUserInput!) { reactivateUser(input: $input) { isActive } }"
TOKEN_AUTH = "mutation Login($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token refreshToken } }"
REFRESH = "mutation Refresh($r: String) { refreshToken(refreshToken: $r) { token refreshToken } }"
ME = "{ me { username } }"

NEW_PASSWORD = "a-long-new-passphrase-2026"
TOKEN_IN_LINK = re.compile(r"\?token=([A-Za-z0-9_\-]+)")


def make_account_manager(username: str = "registrar", codenames=("add_user", "deactivate_user")) -> User:
    """Staff holding users.add_user and users.deactivate_user (no assignment permissions)."""
    user = factories.make_staff(username=username, permissions=())
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="users", codename__in=codenames))
    return User.objects.get(pk=user.pk)


@pytest.fixture
def registrar(db) -> User:
    return make_account_manager()


def patient_input(**overrides) -> dict:
    return {
        "email": "new.patient@clinic.example",
        "firstName": "Nora",
        "lastName": "Newcomer",
        "dateOfBirth": "1980-02-03",
        **overrides,
    }


def doctor_input(**overrides) -> dict:
    return {
        "email": "new.doctor@clinic.example",
        "firstName": "Dev",
        "lastName": "Newdoc",
        "specialty": "Neurology",
        "licenseNumber": "LIC-NEW-1",
        **overrides,
    }


def mailed_token(user: User, kind: NotificationKind) -> str:
    """The token in the newest outbox mail of `kind` to `user` (as the person would click it)."""
    mail = Notification.objects.filter(recipient=user, kind=kind).order_by("-created_at").first()
    assert mail is not None, f"no {kind} mail to {user.username}"
    match = TOKEN_IN_LINK.search(mail.body)
    assert match is not None, mail.body
    return match[1]
