"""seed_demo enrols nobody in MFA and says how to try it (issue 17)."""

from mfa.models import TotpDevice
from tests.care.test_seed_demo import seed
from users.models import User


def test_seed_demo_enrols_nobody_and_prints_how_to_try_mfa(db):
    # when the demo data is seeded
    output = seed()
    # then nobody has TOTP, and the output says how to turn it on and sign in with it
    assert not TotpDevice.objects.exists()
    for step in ("startTotpEnrollment", "confirmTotpEnrollment", "mfaRequired", "verifyMfa", "MFA_REQUIRED_ROLES"):
        assert step in output
    # and the coordinator may reset a lost authenticator
    assert User.objects.get(username="coordinator").has_perm("mfa.reset_mfa")
