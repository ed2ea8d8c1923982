"""tokenAuth with TOTP on answers mfaRequired and an mfaToken; verifyMfa finishes the login (issue 17).

Time is frozen at the start of a 30-second step (T0) and moved in whole steps.
"""

import pytest
import time_machine

from audit.models import Action, AuditEvent, Outcome
from mfa.models import MfaChallenge, RecoveryCode, TotpDevice
from tests.auth.mfa_flows import ME, STEP, T0, code_at, enrol, login, mfa_token_for, now, verify
from users.models import SessionFamily


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def enrolled(gql, member, clock):
    """The member with TOTP on (enrolled at T0, whose code is thereby used), one step later."""
    secret, recovery_codes = enrol(gql, member)
    clock.shift(STEP)
    return secret, recovery_codes


def test_the_password_alone_gives_an_mfa_token_and_no_session(gql, member, enrolled):
    # when the member signs in with the right password
    answer = login(gql, "member")
    # then there are no tokens, only mfaRequired and a token for verifyMfa
    assert answer.errors == []
    payload = answer.data["tokenAuth"]
    assert payload["mfaRequired"] is True and len(payload["mfaToken"]) >= 40
    assert (payload["token"], payload["refreshToken"], payload["payload"], payload["user"]) == (None, None, None, None)
    # and no session was started by the password (only enrolment's own, from the test client)
    assert SessionFamily.objects.filter(user=member).count() == 1
    # and the token is stored as a digest only
    assert not MfaChallenge.objects.filter(token_digest=payload["mfaToken"]).exists()


def test_the_current_code_finishes_the_login_once(gql, member, enrolled):
    secret, _codes = enrolled
    mfa_token = mfa_token_for(gql, "member")
    # when the current code is sent with the mfaToken
    answer = verify(gql, mfa_token, code_at(secret, now()))
    # then the answer holds the tokens of a new session, and they work
    assert answer.errors == []
    tokens = answer.data["verifyMfa"]
    assert tokens["mfaRequired"] is False and tokens["mfaToken"] is None
    assert tokens["user"] == {"username": "member"}
    assert gql.execute(ME, token=tokens["token"]).data == {"me": {"username": "member"}}
    # and the mfaToken is used up, even with the next step's fresh code
    clock_code = code_at(secret, now() + STEP)
    with time_machine.travel(now() + STEP, tick=False):
        again = verify(gql, mfa_token, clock_code)
    assert (again.code, again.data) == ("TOKEN_INVALID", None)
    # and the login is audited as a success
    assert AuditEvent.objects.filter(actor=member, action=Action.LOGIN_SUCCESS).count() == 1


def test_a_code_of_the_previous_step_is_accepted_but_not_of_the_one_before(gql, member, enrolled, clock):
    secret, _codes = enrolled
    clock.shift(2 * STEP)  # T0 + 3 steps; T0's code was used at enrolment
    # when a code from the step before is sent, then it is accepted (one step of delay)
    assert verify(gql, mfa_token_for(gql, "member"), code_at(secret, now() - STEP)).errors == []
    # when a code from two steps back is sent (not used before), then it is refused
    clock.shift(2 * STEP)
    refused = verify(gql, mfa_token_for(gql, "member"), code_at(secret, now() - 2 * STEP))
    assert refused.code == "UNAUTHENTICATED"
    assert refused.errors[0]["message"] == "The code is incorrect or was already used."


def test_a_replayed_code_is_refused_within_its_window(gql, member, enrolled):
    secret, _codes = enrolled
    code = code_at(secret, now())
    # given a login finished with the current code
    assert verify(gql, mfa_token_for(gql, "member"), code).errors == []
    # when the same code comes again, in the same step, for a second login
    replay = verify(gql, mfa_token_for(gql, "member"), code)
    # then it is refused
    assert (replay.code, replay.data) == ("UNAUTHENTICATED", None)


def test_after_a_code_no_code_of_an_earlier_step_is_accepted(gql, member, enrolled, clock):
    secret, _codes = enrolled
    clock.shift(STEP)
    # given the current step's code accepted
    assert verify(gql, mfa_token_for(gql, "member"), code_at(secret, now())).errors == []
    # when the previous step's code (never used, normally still within the window) comes next
    late = verify(gql, mfa_token_for(gql, "member"), code_at(secret, now() - STEP))
    # then it is refused: the last used step only moves forward
    assert late.code == "UNAUTHENTICATED"
    assert TotpDevice.objects.get(user=member).last_used_step == int(now().timestamp()) // 30


def test_a_recovery_code_works_once(gql, member, enrolled):
    _secret, recovery_codes = enrolled
    # when a recovery code is sent instead of a TOTP code (as typed: upper case, without dashes)
    typed = recovery_codes[3].replace("-", "").upper()
    assert verify(gql, mfa_token_for(gql, "member"), typed).errors == []
    # then it is used up: the second use is refused
    second = verify(gql, mfa_token_for(gql, "member"), recovery_codes[3])
    assert second.code == "UNAUTHENTICATED"
    assert RecoveryCode.objects.filter(user=member, used_at__isnull=False).count() == 1
    # and its use is audited
    assert AuditEvent.objects.filter(actor=member, action=Action.MFA_RECOVERY_CODE_USED).count() == 1
    # and the other nine still work
    assert verify(gql, mfa_token_for(gql, "member"), recovery_codes[4]).errors == []


def test_the_mfa_token_expires_after_five_minutes(gql, member, enrolled, clock):
    secret, _codes = enrolled
    mfa_token = mfa_token_for(gql, "member")
    clock.shift(10 * STEP)
    # when it is used five minutes later, then it has expired
    late = verify(gql, mfa_token, code_at(secret, now()))
    assert (late.code, late.data) == ("TOKEN_EXPIRED", None)


def test_an_unknown_mfa_token_is_invalid(gql, member, enrolled):
    secret, _codes = enrolled
    answer = verify(gql, "not-a-token", code_at(secret, now()))
    assert (answer.code, answer.data) == ("TOKEN_INVALID", None)


def test_wrong_codes_count_towards_the_lockout_like_wrong_passwords(gql, member, enrolled):
    secret, _codes = enrolled
    mfa_token = mfa_token_for(gql, "member")
    # when four wrong codes are sent, then each is a plain failure
    assert [verify(gql, mfa_token, "000000").code for _ in range(4)] == ["UNAUTHENTICATED"] * 4
    # when a fifth follows, then the username is locked out from this IP (django-axes' limit)
    assert verify(gql, mfa_token, "000000").code == "RATE_LIMITED"
    # and then even the right code is refused, without being checked
    refused = verify(gql, mfa_token, code_at(secret, now()))
    assert refused.code == "RATE_LIMITED" and refused.errors[0]["extensions"]["retryAfter"] > 0
    # and so is the right password: codes and passwords share one budget
    assert login(gql, "member").code == "RATE_LIMITED"
    # and every wrong code is audited
    assert AuditEvent.objects.filter(actor=member, action=Action.MFA_FAILURE, outcome=Outcome.DENIED).count() == 5


def test_the_right_password_does_not_wipe_the_count_of_wrong_codes(gql, member, enrolled):
    secret, _codes = enrolled
    # given four wrong codes, each after a fresh (right) password
    for _ in range(4):
        assert verify(gql, mfa_token_for(gql, "member"), "000000").code == "UNAUTHENTICATED"
    # when a fifth wrong code follows another right password
    # then it locks out: the passwords in between did not reset the count
    assert verify(gql, mfa_token_for(gql, "member"), "000000").code == "RATE_LIMITED"
