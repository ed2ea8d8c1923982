"""registerPatient / registerDoctor: staff with users.add_user create an account without a usable
password (and the patient's record) and an invitation mail in the outbox; bad input names its fields."""

import pytest

from audit.models import Action, AuditEvent
from care.models import Notification, NotificationKind
from records.models import HealthRecord
from tests import factories
from tests.users.conftest import (
    REGISTER_DOCTOR,
    REGISTER_PATIENT,
    doctor_input,
    make_account_manager,
    patient_input,
)
from users.models import AccountToken, AccountTokenPurpose, User

pytestmark = pytest.mark.django_db


def test_staff_registers_a_patient_with_a_record_and_an_invitation(gql, registrar, settings):
    settings.FRONTEND_URL = "https://app.clinic.example/"
    # when
    result = gql.execute(REGISTER_PATIENT, {"input": patient_input()}, user=registrar)
    # then the account exists, as a patient, without a usable password
    assert result.errors == []
    answered = result.data["registerPatient"]["user"]
    assert answered["username"] == "new.patient@clinic.example"
    assert answered["role"] == "PATIENT" and answered["isActive"] is True
    user = User.objects.get(email="new.patient@clinic.example")
    assert not user.has_usable_password()
    assert HealthRecord.objects.filter(patient__user=user).exists()
    # and one invitation mail to them links to the web app, with a token kept only hashed
    (mail,) = Notification.objects.filter(recipient=user)
    assert mail.kind == NotificationKind.ACCOUNT_INVITATION
    assert "https://app.clinic.example/accept-invitation?token=" in mail.body
    assert "https://app.clinic.example/accept-invitation?token=" in mail.html_body
    token = mail.body.split("?token=")[1].split()[0]
    (row,) = AccountToken.objects.filter(user=user)
    assert row.purpose == AccountTokenPurpose.INVITATION and row.digest != token and token not in row.digest
    assert (row.expires_at - row.created_at).total_seconds() == 72 * 3600
    # and the mail names nothing about care: no date of birth, no record number
    assert "1980" not in mail.body + mail.html_body + mail.subject
    assert user.patient.medical_record_number not in mail.body + mail.html_body
    # and the registration and the invitation are audited with the staff member as actor
    actions = set(AuditEvent.objects.filter(actor=registrar).values_list("action", flat=True))
    assert {Action.PATIENT_REGISTER, Action.ACCOUNT_INVITE} <= actions


def test_links_default_to_this_servers_own_address(gql, registrar, settings):
    settings.FRONTEND_URL = ""
    gql.execute(REGISTER_PATIENT, {"input": patient_input()}, user=registrar)
    mail = Notification.objects.get(kind=NotificationKind.ACCOUNT_INVITATION)
    assert "http://testserver/accept-invitation?token=" in mail.body


def test_staff_registers_a_doctor(gql, registrar):
    result = gql.execute(REGISTER_DOCTOR, {"input": doctor_input(username="dr.new")}, user=registrar)
    assert result.errors == []
    assert result.data["registerDoctor"]["user"] == {
        "id": result.data["registerDoctor"]["user"]["id"],
        "username": "dr.new",
        "email": "new.doctor@clinic.example",
        "role": "DOCTOR",
        "doctor": {"specialty": "Neurology"},
    }
    user = User.objects.get(username="dr.new")
    assert not user.has_usable_password()
    assert Notification.objects.filter(recipient=user, kind=NotificationKind.ACCOUNT_INVITATION).count() == 1


def test_every_invalid_field_is_named_at_once(gql, registrar):
    # given an existing doctor with a licence number and an address
    existing = factories.make_doctor(username="dr.taken")
    # when a registration repeats both (the address in other case), with blank names
    result = gql.execute(
        REGISTER_DOCTOR,
        {
            "input": doctor_input(
                email="DR.TAKEN@clinic.example", licenseNumber=existing.license_number, firstName=" ", lastName=""
            )
        },
        user=registrar,
    )
    # then
    assert result.code == "BAD_USER_INPUT"
    assert set(result.errors[0]["extensions"]["fields"]) == {"email", "licenseNumber", "firstName", "lastName"}
    assert result.data is None
    assert not User.objects.filter(email__iexact="dr.taken@clinic.example").exclude(pk=existing.user.pk).exists()
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"dateOfBirth": "2999-01-01"}, "dateOfBirth"),
        ({"username": "has spaces"}, "username"),
        ({"email": "alice@clinic.example"}, "email"),
    ],
)
def test_a_patient_with_a_bad_field_is_not_registered(gql, registrar, overrides, field):
    factories.make_patient(username="alice")
    result = gql.execute(REGISTER_PATIENT, {"input": patient_input(**overrides)}, user=registrar)
    assert result.code == "BAD_USER_INPUT"
    assert field in result.errors[0]["extensions"]["fields"]
    assert not User.objects.filter(first_name="Nora").exists()
    assert not AccountToken.objects.exists()


def test_callers_without_the_permission_register_nobody(gql, db):
    # given a doctor, a patient, staff without users.add_user, and staff with only deactivate_user
    doctor = factories.make_doctor()
    patient = factories.make_patient()
    assigner = factories.make_staff()
    changer = make_account_manager(username="changer", codenames=("deactivate_user",))
    # then
    assert gql.execute(REGISTER_PATIENT, {"input": patient_input()}).code == "UNAUTHENTICATED"
    for caller in (doctor.user, patient.user, assigner, changer):
        for document, data in ((REGISTER_PATIENT, patient_input()), (REGISTER_DOCTOR, doctor_input())):
            result = gql.execute(document, {"input": data}, user=caller)
            assert result.code == "FORBIDDEN", caller.username
    assert not User.objects.filter(email__in=["new.patient@clinic.example", "new.doctor@clinic.example"]).exists()
