"""MFA_REQUIRED_ROLES: a doctor or staff member without TOTP gets a session that can only enrol."""

import pytest
import time_machine

from tests.auth.conftest import REFRESH
from tests.auth.mfa_flows import CONFIRM, ME, START, STEP, T0, code_at, enrol, login, mfa_token_for, now, verify
from tests.factories import make_doctor, make_patient

ASSIGNMENTS = "{ assignments(first: 5) { totalCount } }"


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def required(settings):
    settings.MFA_REQUIRED_ROLES = frozenset({"DOCTOR", "STAFF"})


def test_the_suite_requires_nobody_by_default(gql, db, settings):
    # given the test settings (the production default is DOCTOR,STAFF; DEBUG's is none)
    assert settings.MFA_REQUIRED_ROLES == frozenset()
    make_doctor(username="dr.plain")
    # then a doctor without TOTP gets a full session
    tokens = login(gql, "dr.plain").data["tokenAuth"]
    assert "mfa" not in tokens["payload"]
    assert gql.execute(ME, token=tokens["token"]).data == {"me": {"username": "dr.plain"}}


def test_a_doctor_without_totp_gets_an_enrol_only_session(gql, db, required, clock):
    make_doctor(username="dr.new")
    # when the doctor signs in with the password
    tokens = login(gql, "dr.new").data["tokenAuth"]
    # then the session is marked enrol-only
    assert tokens["mfaRequired"] is False and tokens["payload"]["mfa"] == "enrol"
    # and every other field answers MFA_REQUIRED, with a message saying what to do
    for document in (ME, ASSIGNMENTS):
        refused = gql.execute(document, token=tokens["token"])
        assert (refused.code, refused.data) == ("MFA_REQUIRED", None)
    assert "startTotpEnrollment" in refused.errors[0]["message"]
    # but enrolment works
    started = gql.execute(START, token=tokens["token"])
    secret = started.data["startTotpEnrollment"]["secret"]
    confirmed = gql.execute(CONFIRM, {"code": code_at(secret, now())}, token=tokens["token"])
    assert confirmed.errors == []
    # and a refresh after it gives a full access token
    clock.shift(STEP)
    fresh = gql.execute(REFRESH, {"refreshToken": tokens["refreshToken"]}).data["refreshToken"]
    assert "mfa" not in fresh["payload"]
    assert gql.execute(ME, token=fresh["token"]).data == {"me": {"username": "dr.new"}}


def test_a_patient_is_not_required_to_enrol(gql, db, required):
    make_patient(username="pat")
    tokens = login(gql, "pat").data["tokenAuth"]
    assert "mfa" not in tokens["payload"]
    assert gql.execute(ME, token=tokens["token"]).data == {"me": {"username": "pat"}}


def test_a_doctor_with_totp_signs_in_with_a_code_and_gets_a_full_session(gql, db, required, clock):
    doctor = make_doctor(username="dr.ready")
    secret, _codes = enrol(gql, doctor.user)  # the test client's session skips tokenAuth's marking
    clock.shift(STEP)
    tokens = verify(gql, mfa_token_for(gql, "dr.ready"), code_at(secret, now())).data["verifyMfa"]
    assert "mfa" not in tokens["payload"]
    assert gql.execute(ME, token=tokens["token"]).data == {"me": {"username": "dr.ready"}}
