"""resetUserMfa: staff remove a user's TOTP after checking their identity outside the system."""

import pytest
import time_machine
from django.contrib.auth.models import Permission

from audit.models import Action, AuditEvent
from mfa.models import RecoveryCode, TotpDevice
from tests.auth.mfa_flows import ME, STEP, T0, enrol, login
from tests.conftest import global_id
from tests.factories import make_doctor, make_staff

RESET = "mutation ($id: ID!) { resetUserMfa(input: {id: $id}) { id } }"


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def helpdesk(db):
    staff = make_staff(username="helpdesk", permissions=())
    staff.user_permissions.add(Permission.objects.get(content_type__app_label="mfa", codename="reset_mfa"))
    return staff


def test_staff_with_the_permission_reset_a_users_mfa_and_end_their_sessions(gql, helpdesk, settings, clock):
    settings.MFA_REQUIRED_ROLES = frozenset({"DOCTOR", "STAFF"})
    doctor = make_doctor(username="dr.lost")
    enrol(gql, doctor.user)
    old_token = gql.sign_in(doctor.user)
    clock.shift(STEP)
    user_id = global_id("User", doctor.user.pk)
    # when staff reset the doctor's MFA
    answer = gql.execute(RESET, {"id": user_id}, user=helpdesk)
    # then TOTP and the recovery codes are gone, and so are the doctor's sessions
    assert answer.errors == [] and answer.data == {"resetUserMfa": {"id": user_id}}
    assert not TotpDevice.objects.filter(user=doctor.user).exists()
    assert not RecoveryCode.objects.filter(user=doctor.user).exists()
    assert gql.execute(ME, token=old_token).code == "TOKEN_REVOKED"
    # and the doctor must enrol again: the password gives an enrol-only session
    tokens = login(gql, "dr.lost").data["tokenAuth"]
    assert tokens["mfaRequired"] is False and tokens["payload"]["mfa"] == "enrol"
    # and the reset is audited with staff as the actor and the doctor's account as the object
    event = AuditEvent.objects.get(action=Action.MFA_RESET)
    assert (event.actor_id, event.object_id) == (helpdesk.pk, str(doctor.user.pk))


@pytest.mark.parametrize("caller", ["coordinator", "dr.grey", "alice"])
def test_nobody_else_may_reset_mfa(gql, world, caller):
    # given a user with TOTP on
    with time_machine.travel(T0, tick=False):
        enrol(gql, world.house.user)
    users = {"coordinator": world.coordinator, "dr.grey": world.grey.user, "alice": world.alice.user}
    # when staff without the permission, a doctor or a patient tries to reset it
    refused = gql.execute(RESET, {"id": global_id("User", world.house.user.pk)}, user=users[caller])
    # then it is refused and nothing changed
    assert (refused.code, refused.data) == ("FORBIDDEN", None)
    assert TotpDevice.objects.filter(user=world.house.user, confirmed_at__isnull=False).exists()


def test_an_unknown_user_is_not_found(gql, helpdesk):
    assert gql.execute(RESET, {"id": global_id("User", 999999)}, user=helpdesk).code == "NOT_FOUND"
