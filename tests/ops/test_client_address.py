"""Behind TRUSTED_PROXY_HOPS proxies the client's address is taken from X-Forwarded-For; else never."""

import pytest

from audit.models import Action, AuditEvent
from tests.factories import PASSWORD

UPDATE = "mutation($input: UpdateHealthRecordInput!) { updateHealthRecord(input: $input) { allergies } }"
LOGIN = "mutation($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token } }"


def audited_ip(gql, world, forwarded_for: str) -> str | None:
    gql.execute(UPDATE, {"input": {"allergies": "dust"}}, user=world.alice.user,
                headers={"HTTP_X_FORWARDED_FOR": forwarded_for})
    return AuditEvent.objects.filter(action=Action.RECORD_UPDATE).latest("created_at").ip


def test_without_trusted_proxies_x_forwarded_for_is_ignored(gql, world, settings):
    # given the default: no proxy is trusted
    settings.TRUSTED_PROXY_HOPS = 0
    # when a client claims another address
    ip = audited_ip(gql, world, "203.0.113.9")
    # then the audit trail keeps the peer's address
    assert ip == "127.0.0.1"


@pytest.mark.parametrize(
    ("hops", "forwarded_for", "expected"),
    [
        (1, "203.0.113.9", "203.0.113.9"),  # one load balancer
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the client's own claim is ignored
        (2, "6.6.6.6, 203.0.113.9, 198.51.100.7", "203.0.113.9"),  # a CDN, then the load balancer
        (2, "203.0.113.9", "127.0.0.1"),  # fewer entries than proxies: not trustworthy
        (1, "not-an-address", "127.0.0.1"),
    ],
)
def test_behind_trusted_proxies_the_client_is_counted_from_the_right(gql, world, settings, hops, forwarded_for,
                                                                      expected):
    # given
    settings.TRUSTED_PROXY_HOPS = hops
    # when
    ip = audited_ip(gql, world, forwarded_for)
    # then
    assert ip == expected


def test_behind_a_proxy_a_lockout_holds_for_the_client_not_for_everyone(gql, world, settings):
    # given five failed logins for alice from one client behind the load balancer
    settings.TRUSTED_PROXY_HOPS = 1
    for attempt in range(5):
        gql.execute(LOGIN, {"u": "alice", "p": f"wrong-{attempt}"}, headers={"HTTP_X_FORWARDED_FOR": "203.0.113.9"})
    # when alice logs in from that client, and from another one
    same_client = gql.execute(LOGIN, {"u": "alice", "p": PASSWORD}, headers={"HTTP_X_FORWARDED_FOR": "203.0.113.9"})
    other_client = gql.execute(LOGIN, {"u": "alice", "p": PASSWORD}, headers={"HTTP_X_FORWARDED_FOR": "198.51.100.7"})
    # then
    assert same_client.codes == ["RATE_LIMITED"]
    assert other_client.codes == []
    assert other_client.data["tokenAuth"]["token"]


def test_without_trusted_proxies_a_forged_x_forwarded_for_does_not_escape_a_lockout(gql, world, settings):
    # given five failed logins, each claiming a different address
    settings.TRUSTED_PROXY_HOPS = 0
    for attempt in range(5):
        forged = {"HTTP_X_FORWARDED_FOR": f"10.0.0.{attempt}"}
        gql.execute(LOGIN, {"u": "alice", "p": f"wrong-{attempt}"}, headers=forged)
    # when the right password comes with yet another claimed address
    result = gql.execute(LOGIN, {"u": "alice", "p": PASSWORD}, headers={"HTTP_X_FORWARDED_FOR": "10.0.0.99"})
    # then
    assert result.codes == ["RATE_LIMITED"]
