"""deactivateUser / reactivateUser: sessions and tokens end at once; a deactivated doctor cannot be assigned."""

import pytest

from audit.models import Action, AuditEvent
from care.models import Assignment
from tests import factories
from tests.conftest import global_id
from tests.users.conftest import DEACTIVATE, ME, REACTIVATE, REFRESH, TOKEN_AUTH, make_account_manager

pytestmark = pytest.mark.django_db

ASSIGN = "mutation Assign($input: AssignDoctorInput!) { assignDoctor(input: $input) { id active } }"


def user_input(user) -> dict:
    return {"input": {"id": global_id("User", user.pk)}}


def test_deactivation_ends_sessions_and_tokens_at_once(gql, registrar):
    # given a doctor signed in (an access and a refresh token)
    doctor = factories.make_doctor(username="dr.leaving")
    session = gql.execute(TOKEN_AUTH, {"u": "dr.leaving", "p": factories.PASSWORD}).data["tokenAuth"]
    assert gql.execute(ME, token=session["token"]).errors == []
    # when staff deactivate the account
    result = gql.execute(DEACTIVATE, user_input(doctor.user), user=registrar)
    # then
    assert result.errors == []
    assert result.data == {"deactivateUser": {"isActive": False}}
    # and the access token stops working now, not in 5 minutes (its user is inactive), and so
    # does the refresh token (its session ended)
    assert gql.execute(ME, token=session["token"]).code == "TOKEN_INVALID"
    assert gql.execute(REFRESH, {"r": session["refreshToken"]}).code == "TOKEN_REVOKED"
    # and the password no longer signs in
    assert gql.execute(TOKEN_AUTH, {"u": "dr.leaving", "p": factories.PASSWORD}).code == "UNAUTHENTICATED"
    assert AuditEvent.objects.filter(actor=registrar, action=Action.USER_DEACTIVATE).count() == 1


def test_a_deactivated_doctor_cannot_be_assigned(gql, registrar):
    # given a doctor and a patient, and staff who may assign
    doctor = factories.make_doctor()
    patient = factories.make_patient()
    assigner = factories.make_staff(username="assigner")
    gql.execute(DEACTIVATE, user_input(doctor.user), user=registrar)
    # when
    result = gql.execute(
        ASSIGN,
        {"input": {"doctorId": global_id("Doctor", doctor.pk), "patientId": global_id("Patient", patient.pk)}},
        user=assigner,
    )
    # then
    assert result.code == "BAD_USER_INPUT"
    assert list(result.errors[0]["extensions"]["fields"]) == ["doctorId"]
    assert not Assignment.objects.filter(doctor=doctor).exists()
    # and once reactivated they can be
    assert gql.execute(REACTIVATE, user_input(doctor.user), user=registrar).errors == []
    again = gql.execute(
        ASSIGN,
        {"input": {"doctorId": global_id("Doctor", doctor.pk), "patientId": global_id("Patient", patient.pk)}},
        user=assigner,
    )
    assert again.errors == [] and again.data["assignDoctor"]["active"] is True


def test_reactivation_lets_the_password_sign_in_again_and_old_sessions_stay_ended(gql, registrar):
    patient = factories.make_patient(username="paused")
    session = gql.execute(TOKEN_AUTH, {"u": "paused", "p": factories.PASSWORD}).data["tokenAuth"]
    gql.execute(DEACTIVATE, user_input(patient.user), user=registrar)
    # when
    result = gql.execute(REACTIVATE, user_input(patient.user), user=registrar)
    # then
    assert result.data == {"reactivateUser": {"isActive": True}}
    assert gql.execute(ME, token=session["token"]).code == "TOKEN_REVOKED"
    assert gql.execute(TOKEN_AUTH, {"u": "paused", "p": factories.PASSWORD}).errors == []
    assert AuditEvent.objects.filter(actor=registrar, action=Action.USER_REACTIVATE).count() == 1


def test_deactivating_twice_is_harmless_and_audited_once(gql, registrar):
    patient = factories.make_patient()
    for _ in range(2):
        assert gql.execute(DEACTIVATE, user_input(patient.user), user=registrar).errors == []
    assert AuditEvent.objects.filter(action=Action.USER_DEACTIVATE).count() == 1


def test_nobody_deactivates_themselves(gql, registrar):
    result = gql.execute(DEACTIVATE, user_input(registrar), user=registrar)
    assert result.code == "BAD_USER_INPUT"
    registrar.refresh_from_db()
    assert registrar.is_active


def test_an_unknown_user_is_not_found(gql, registrar):
    result = gql.execute(DEACTIVATE, {"input": {"id": global_id("User", 987654)}}, user=registrar)
    assert result.code == "NOT_FOUND"
    assert gql.execute(DEACTIVATE, {"input": {"id": "garbage"}}, user=registrar).code == "BAD_USER_INPUT"


def test_callers_without_the_permission_deactivate_nobody(gql, db):
    target = factories.make_patient()
    doctor = factories.make_doctor()
    adder = make_account_manager(username="adder", codenames=("add_user",))
    assert gql.execute(DEACTIVATE, user_input(target.user)).code == "UNAUTHENTICATED"
    for caller in (doctor.user, target.user, factories.make_staff(), adder):
        for document in (DEACTIVATE, REACTIVATE):
            assert gql.execute(document, user_input(target.user), user=caller).code == "FORBIDDEN", caller.username
    target.user.refresh_from_db()
    assert target.user.is_active


def test_only_a_superuser_deactivates_a_superuser(gql, registrar):
    from users.models import User

    root = User.objects.create_superuser(username="root", email="root@clinic.example", password="root-pass-2026-x")
    result = gql.execute(DEACTIVATE, user_input(root), user=registrar)
    assert result.code == "FORBIDDEN"
    root.refresh_from_db()
    assert root.is_active
