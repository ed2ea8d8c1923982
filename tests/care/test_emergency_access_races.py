"""Emergency access against real servers: parallel requests make one grant, and every process
agrees at once when it starts and when it ends (issue 18).

The same races as tests/concurrency/ (runserver and gunicorn on an SQLite file, gunicorn with 4
processes on PostgreSQL when DATABASE_URL names one), clients released together by a barrier.
"""

import collections

# seeded_sqlite and site: the fixtures of tests/concurrency/, the same servers and databases.
from tests.concurrency.conftest import PASSWORD, Site, pk_of, race, seeded_sqlite, site  # noqa: F401

CLIENTS = 12
REQUEST = """
mutation Break($input: RequestEmergencyAccessInput!) { requestEmergencyAccess(input: $input) { id active } }
"""
REVOKE = "mutation Revoke($input: RevokeEmergencyAccessInput!) { revokeEmergencyAccess(input: $input) { active } }"
READ = "query Read($id: ID!) { node(id: $id) { ... on HealthRecord { allergies } } }"
REASON = "Found collapsed in the waiting room; her own doctor is off today."


def outcomes(answers) -> collections.Counter:
    return collections.Counter(answer.codes[0] if answer.codes else "OK" for answer in answers)


def test_parallel_requests_make_one_grant_and_every_process_agrees_when_it_starts_and_ends(site: Site):  # noqa: F811
    # given dr.house, who is not assigned to carol, and a coordinator who oversees emergency access
    house, carol, staff = site.login("dr.house"), site.login("carol"), site.login("coordinator")
    variables = {"input": {"patientId": carol.patient_id, "reason": REASON, "password": PASSWORD}}
    # when he breaks the glass from 12 clients at once
    answers = race([lambda: site.server.graphql(REQUEST, variables, token=house.token)] * CLIENTS)
    # then every client gets the same grant, and the database holds one, audited once
    assert outcomes(answers) == {"OK": CLIENTS}, [answer.body for answer in answers]
    granted = {answer.data["requestEmergencyAccess"]["id"] for answer in answers}
    assert len(granted) == 1
    (grant_id,) = granted
    rows = site.rows(
        "SELECT id FROM care_emergencyaccess WHERE doctor_id = %s AND patient_id = %s",
        pk_of(house.doctor_id),
        pk_of(carol.patient_id),
    )
    assert [pk_of(grant_id)] == [str(row[0]).replace("-", "") for row in rows]
    events = site.rows("SELECT COUNT(*) FROM audit_auditevent WHERE action = 'EMERGENCY_ACCESS_GRANT'")
    assert events == [(1,)]
    # and at once every process serves him carol's record
    reads = race([lambda: site.server.graphql(READ, {"id": carol.record_id}, token=house.token)] * CLIENTS)
    assert outcomes(reads) == {"OK": CLIENTS}, [answer.body for answer in reads]
    # when the coordinator ends it
    ended = site.server.graphql(REVOKE, {"input": {"id": grant_id}}, token=staff.token)
    assert ended.codes == [] and ended.data == {"revokeEmergencyAccess": {"active": False}}, ended.body
    # then at once no process serves it any more
    reads = race([lambda: site.server.graphql(READ, {"id": carol.record_id}, token=house.token)] * CLIENTS)
    assert outcomes(reads) == {"NOT_FOUND": CLIENTS}, [answer.body for answer in reads]
    print(
        f"\nRACE {site.kind}/{site.database} requestEmergencyAccess x{CLIENTS}: {dict(outcomes(answers))}, "
        f"grants={len(rows)}; reads after revoke: {dict(outcomes(reads))}"
    )
