"""16 clients write at once to a real server: no INTERNAL, exact outcomes, every write kept.

The same races run against runserver (as `make run` serves, DEBUG on) and gunicorn (as
`make serve` does, production settings) on an SQLite file, and against gunicorn on PostgreSQL
when DATABASE_URL names one (issue 11). Each test uses accounts and pairs no other test in the
module touches, so they share one server and database.
"""

import collections
import json

from tests.concurrency.conftest import CLIENTS, Site, pk_of, race

ASSIGN = "mutation Assign($input: AssignDoctorInput!) { assignDoctor(input: $input) { id active } }"
ANNOTATE = "mutation Annotate($input: AddAnnotationInput!) { addAnnotation(input: $input) { id body } }"
UPDATE = "mutation Update($input: UpdateHealthRecordInput!) { updateHealthRecord(input: $input) { allergies } }"
REFRESH = "mutation Refresh($r: String) { refreshToken(refreshToken: $r) { token refreshToken } }"


def outcomes(answers) -> collections.Counter:
    """How many answers came back as data ("OK") and how many with each error code."""
    return collections.Counter(answer.codes[0] if answer.codes else "OK" for answer in answers)


def report(site: Site, name: str, answers, acknowledged: int, found: int) -> None:
    # Shown with -s; the numbers the README quotes.
    print(f"\nRACE {site.kind}/{site.database} {name}: requests={len(answers)} "
          f"outcomes={dict(outcomes(answers))} acknowledged={acknowledged} found={found}")


def assign_race(site: Site, staff_token: str, doctor_id: str, patient_id: str, clients: int):
    variables = {"input": {"doctorId": doctor_id, "patientId": patient_id}}
    return [lambda: site.server.graphql(ASSIGN, variables, token=staff_token)] * clients


def active_assignments(site: Site, doctor_id: str, patient_id: str) -> list[str]:
    return [row[0] for row in site.rows(
        "SELECT id FROM care_assignment WHERE doctor_id = %s AND patient_id = %s AND ended_at IS NULL",
        pk_of(doctor_id), pk_of(patient_id),
    )]


def test_racing_assignments_of_one_pair_make_one_and_conflict_the_rest(site: Site):
    # given a staff member, and a doctor and patient not yet assigned
    staff, house, bob = site.login("coordinator"), site.login("dr.house"), site.login("bob")
    # when 16 clients assign that pair at once
    answers = race(assign_race(site, staff.token, house.doctor_id, bob.patient_id, CLIENTS))
    # then one assignment is made and the other 15 are told it exists: no INTERNAL
    assert outcomes(answers) == {"OK": 1, "CONFLICT": CLIENTS - 1}, [a.body for a in answers]
    (made,) = [answer.data["assignDoctor"] for answer in answers if not answer.codes]
    # and the database holds exactly that one active assignment, with the doctor's access granted once
    kept = active_assignments(site, house.doctor_id, bob.patient_id)
    assert kept == [pk_of(made["id"])]
    grants = site.rows(
        "SELECT COUNT(*) FROM records_healthrecorduserobjectpermission g "
        "JOIN users_doctor d ON d.user_id = g.user_id WHERE d.id = %s",
        pk_of(house.doctor_id),
    )
    assert grants == [(2,)]  # view_healthrecord and annotate_healthrecord, once each
    report(site, "assignDoctor same pair", answers, acknowledged=1, found=len(kept))


def annotation_race(site: Site, doctor_token: str, record_id: str, tag: str, clients: int):
    def annotate(n: int):
        return lambda: site.server.graphql(
            ANNOTATE, {"input": {"recordId": record_id, "body": f"{tag} note {n}"}}, token=doctor_token
        )

    return [annotate(n) for n in range(clients)]


def annotations_found(site: Site, answers) -> dict[str, str]:
    ids = [pk_of(answer.data["addAnnotation"]["id"]) for answer in answers if not answer.codes]
    placeholders = ", ".join(["%s"] * len(ids))
    return dict(site.rows(f"SELECT id, body FROM records_annotation WHERE id IN ({placeholders})", *ids))  # noqa: S608


def test_racing_annotations_are_all_answered_and_all_kept(site: Site):
    # given dr.grey, assigned to alice by the demo data
    grey, alice = site.login("dr.grey"), site.login("alice")
    # when 16 clients annotate alice's record at once
    answers = race(annotation_race(site, grey.token, alice.record_id, "solo", CLIENTS))
    # then every one is answered with its annotation
    assert outcomes(answers) == {"OK": CLIENTS}, [a.body for a in answers]
    acknowledged = {pk_of(a.data["addAnnotation"]["id"]): a.data["addAnnotation"]["body"] for a in answers}
    # and every acknowledged annotation is in the database, as acknowledged
    found = annotations_found(site, answers)
    assert found == acknowledged
    assert sorted(found.values()) == sorted(f"solo note {n}" for n in range(CLIENTS))
    report(site, "addAnnotation", answers, acknowledged=len(acknowledged), found=len(found))


def update_race(site: Site, patient_token: str, tag: str, clients: int):
    def update(n: int):
        return lambda: site.server.graphql(UPDATE, {"input": {"allergies": f"{tag} {n}"}}, token=patient_token)

    return [update(n) for n in range(clients)]


def revisions_found(site: Site, record_id: str, tag: str) -> list[str]:
    rows = site.rows(
        "SELECT changes FROM records_healthrecordrevision WHERE record_id = %s", pk_of(record_id)
    )
    values = [(row[0] if isinstance(row[0], dict) else json.loads(row[0]))["allergies"]["new"] for row in rows]
    return sorted(value for value in values if value.startswith(f"{tag} "))


def test_racing_record_updates_are_all_answered_and_each_kept_as_a_revision(site: Site):
    # given bob, who maintains his own record
    bob = site.login("bob")
    # when 16 clients of his change his allergies at once, each to a different value
    answers = race(update_race(site, bob.token, "pollen", CLIENTS))
    # then every change is answered
    assert outcomes(answers) == {"OK": CLIENTS}, [a.body for a in answers]
    # and every one is kept as a revision, the record holding one of them (the last to commit)
    found = revisions_found(site, bob.record_id, "pollen")
    assert found == sorted(f"pollen {n}" for n in range(CLIENTS))
    (current,) = site.rows("SELECT allergies FROM records_healthrecord WHERE id = %s", pk_of(bob.record_id))
    assert current[0] in found
    report(site, "updateHealthRecord", answers, acknowledged=CLIENTS, found=len(found))


def refresh_race(site: Site, refresh_token: str, clients: int):
    return [lambda: site.server.graphql(REFRESH, {"r": refresh_token})] * clients


def assert_reuse_ended_the_session(site: Site, answers, family_user: str) -> None:
    # one refresh won, the others were reuse of a rotated token
    assert outcomes(answers) == {"OK": 1, "TOKEN_REVOKED": len(answers) - 1}, [a.body for a in answers]
    (winner,) = [answer.data["refreshToken"] for answer in answers if not answer.codes]
    # and reuse ended the session: the winner's new refresh token is dead too
    assert site.server.graphql(REFRESH, {"r": winner["refreshToken"]}).codes == ["TOKEN_REVOKED"]
    ended = site.rows(
        "SELECT f.end_reason FROM users_sessionfamily f JOIN users_user u ON u.id = f.user_id "
        "WHERE u.username = %s AND f.revoked_at IS NOT NULL",
        family_user,
    )
    assert ended == [("REUSE",)]


def test_racing_refreshes_of_one_token_let_one_win_and_end_the_session(site: Site):
    # given one session of carol's
    carol = site.login("carol")
    # when 16 clients present its refresh token at once
    answers = race(refresh_race(site, carol.refresh_token, CLIENTS))
    # then one wins, 15 are TOKEN_REVOKED, and the session is over, the winner's token included
    assert_reuse_ended_the_session(site, answers, "carol")
    # and nobody got INTERNAL (asserted above: the only outcomes are OK and TOKEN_REVOKED)
    report(site, "refreshToken one token", answers, acknowledged=1, found=1)


def test_sixteen_writers_of_four_kinds_at_once_all_get_their_answer(site: Site):
    # given accounts and targets no other test uses: dr.grey on carol after assigning him there
    staff, grey, carol = site.login("coordinator"), site.login("dr.grey"), site.login("carol")
    house_session = site.login("dr.house")
    per_kind = CLIENTS // 4
    assigned = site.server.graphql(
        ASSIGN, {"input": {"doctorId": grey.doctor_id, "patientId": carol.patient_id}}, token=staff.token
    )
    assert assigned.codes == []
    # when 16 clients fire at once: 4 assign one new pair, 4 annotate carol's record, 4 update it,
    # and 4 refresh one session's token
    calls = (
        assign_race(site, staff.token, house_session.doctor_id, carol.patient_id, per_kind)
        + annotation_race(site, grey.token, carol.record_id, "mixed", per_kind)
        + update_race(site, carol.token, "latex", per_kind)
        + refresh_race(site, house_session.refresh_token, per_kind)
    )
    answers = race(calls)
    assigns, notes, updates, refreshes = (answers[k * per_kind:(k + 1) * per_kind] for k in range(4))
    # then no answer is INTERNAL, and each kind has its exact outcome
    assert "INTERNAL" not in outcomes(answers), [a.body for a in answers]
    assert outcomes(assigns) == {"OK": 1, "CONFLICT": per_kind - 1}
    assert active_assignments(site, house_session.doctor_id, carol.patient_id) == [
        pk_of(a.data["assignDoctor"]["id"]) for a in assigns if not a.codes
    ]
    assert outcomes(notes) == {"OK": per_kind}
    assert sorted(annotations_found(site, notes).values()) == sorted(f"mixed note {n}" for n in range(per_kind))
    assert outcomes(updates) == {"OK": per_kind}
    assert revisions_found(site, carol.record_id, "latex") == sorted(f"latex {n}" for n in range(per_kind))
    assert_reuse_ended_the_session(site, refreshes, "dr.house")
    report(site, "mixed 4x4", answers, acknowledged=1 + 2 * per_kind + 1, found=1 + 2 * per_kind + 1)
