"""Logins, successful or not, are on the trail with where they came from."""

from audit.models import Action, AuditEvent, Outcome
from tests import factories

LOGIN = "mutation($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token } }"


def test_login_success_and_failure_are_audited(world, gql):
    # when alice logs in from her browser, and someone tries her account with a wrong password
    headers = {"HTTP_USER_AGENT": "Firefox/140", "REMOTE_ADDR": "203.0.113.7"}
    ok = gql.execute(LOGIN, {"u": "alice", "p": factories.PASSWORD}, headers=headers)
    bad = gql.execute(LOGIN, {"u": "alice", "p": "wrong"}, headers=headers)
    # then one LOGIN_SUCCESS for her, one DENIED LOGIN_FAILURE without an actor, both with their origin
    assert ok.errors == [] and bad.errors
    success = AuditEvent.objects.get(action=Action.LOGIN_SUCCESS)
    failure = AuditEvent.objects.get(action=Action.LOGIN_FAILURE)
    assert (success.actor_id, success.outcome) == (world.alice.user.pk, Outcome.ALLOWED)
    assert (failure.actor_id, failure.outcome) == (None, Outcome.DENIED)
    for event in (success, failure):
        assert (event.ip, event.user_agent) == ("203.0.113.7", "Firefox/140")
        assert event.request_id
    assert success.request_id != failure.request_id
