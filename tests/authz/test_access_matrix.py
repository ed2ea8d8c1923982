"""DESIGN.md section 2, cell by cell: every operation x every kind of caller.

Each case asserts the data returned and the error code. A hidden object must answer exactly
like a missing one (same code, same message, same data shape).
"""

import uuid

import pytest
import time_machine

from care.models import Assignment
from records.models import Annotation, HealthRecord, HealthRecordRevision
from records.services import annotation_add
from tests import factories
from tests.auth.mfa_flows import T0, enrol
from tests.conftest import global_id

COLUMNS = (
    "anonymous",
    "own_patient",
    "other_patient",
    "assigned_doctor",
    "unassigned_doctor",
    "former_doctor",
    "staff",
    "emergency_doctor",
)


def emergency_doctor(world):
    """A doctor never assigned to alice who broke the glass for her (issue 18): made once per test."""
    if getattr(world, "emergency", None) is None:
        world.emergency = factories.make_doctor(username="dr.er")
        factories.break_glass(doctor=world.emergency, patient=world.alice)
    return world.emergency


def caller(world, column):
    if column == "emergency_doctor":
        return emergency_doctor(world).user
    return {
        "anonymous": None,
        "own_patient": world.alice.user,
        "other_patient": world.bob.user,
        "assigned_doctor": world.grey.user,
        "unassigned_doctor": world.house.user,
        "former_doctor": world.former.user,
        "staff": world.coordinator,
    }[column]


def run(gql, world, column, query, variables=None):
    user = caller(world, column)
    return gql.execute(query, variables, user=user) if user is not None else gql.execute(query, variables)


def refused(column: str, root: str) -> dict | None:
    """The data of a refused read: anonymous documents stop before execution, naming nothing
    (schema/public_schema.py), so they have no data at all; the others have the field null."""
    return None if column == "anonymous" else {root: None}


def matrix(expected: dict):
    """Parametrize over every column; `expected` must name each one.

    A doctor under emergency access "reads and annotates like an assigned doctor until the grant
    ends" (DESIGN.md section 2): where `expected` does not name that column, it is the assigned
    doctor's outcome, run with the emergency doctor as the caller; where they differ, it is named.
    """
    if "emergency_doctor" not in expected and "assigned_doctor" in expected:
        expected = {**expected, "emergency_doctor": expected["assigned_doctor"]}
    assert set(expected) == set(COLUMNS), set(COLUMNS) ^ set(expected)
    return pytest.mark.parametrize(("column", "outcome"), [(c, expected[c]) for c in COLUMNS])


@pytest.fixture
def note(world) -> Annotation:
    return annotation_add(actor=world.grey.user, record=world.alice.health_record, body="Penicillin rash in 2019.")


def record_gid(patient):
    return global_id("HealthRecord", patient.health_record.pk)


# --- me ---------------------------------------------------------------------------------

ME = "{ me { username role } }"


@matrix(
    {
        "anonymous": "UNAUTHENTICATED",
        "own_patient": {"username": "alice", "role": "PATIENT"},
        "other_patient": {"username": "bob", "role": "PATIENT"},
        "assigned_doctor": {"username": "dr.grey", "role": "DOCTOR"},
        "unassigned_doctor": {"username": "dr.house", "role": "DOCTOR"},
        "former_doctor": {"username": "dr.former", "role": "DOCTOR"},
        "staff": {"username": "coordinator", "role": "STAFF"},
        "emergency_doctor": {"username": "dr.er", "role": "DOCTOR"},
    }
)
def test_me(gql, world, column, outcome):
    # when
    result = run(gql, world, column, ME)
    # then
    if isinstance(outcome, str):
        assert result.codes == [outcome]
        assert result.data is None
    else:
        assert result.errors == []
        assert result.data == {"me": outcome}


# --- read a record / its annotations ----------------------------------------------------

NODE_RECORD = """
query ($id: ID!) { node(id: $id) { id ... on HealthRecord { allergies annotations { edges { node { body } } } } } }
"""
NODE_ANNOTATION = "query ($id: ID!) { node(id: $id) { id ... on Annotation { body author { fullName } } } }"

READ = {
    "anonymous": "UNAUTHENTICATED",
    "own_patient": "OK",
    "other_patient": "NOT_FOUND",
    "assigned_doctor": "OK",
    "unassigned_doctor": "NOT_FOUND",
    "former_doctor": "NOT_FOUND",
    "staff": "NOT_FOUND",
}


@matrix(READ)
def test_read_a_record_by_node(gql, world, note, column, outcome):
    # given alice's record with grey's annotation
    HealthRecord.objects.filter(pk=world.alice.health_record.pk).update(allergies="Penicillin")
    gid = record_gid(world.alice)
    # when
    result = run(gql, world, column, NODE_RECORD, {"id": gid})
    # then
    if outcome == "OK":
        assert result.errors == []
        assert result.data == {
            "node": {
                "id": gid,
                "allergies": "Penicillin",
                "annotations": {"edges": [{"node": {"body": "Penicillin rash in 2019."}}]},
            }
        }
    else:
        assert result.codes == [outcome]
        assert result.data == refused(column, "node")


@matrix(READ)
def test_read_an_annotation_by_node(gql, world, note, column, outcome):
    # given
    gid = global_id("Annotation", note.pk)
    # when
    result = run(gql, world, column, NODE_ANNOTATION, {"id": gid})
    # then
    if outcome == "OK":
        assert result.errors == []
        assert result.data == {
            "node": {"id": gid, "body": "Penicillin rash in 2019.", "author": {"fullName": world.grey.full_name}}
        }
    else:
        assert result.codes == [outcome]
        assert result.data == refused(column, "node")


MY_RECORD = "{ myHealthRecord { id allergies annotations { edges { node { body } } } } }"


@matrix(
    {
        "anonymous": "UNAUTHENTICATED",
        "own_patient": "alice",
        "other_patient": "bob",  # their own record, never alice's
        "assigned_doctor": "FORBIDDEN",
        "unassigned_doctor": "FORBIDDEN",
        "former_doctor": "FORBIDDEN",
        "staff": "FORBIDDEN",
    }
)
def test_my_health_record(gql, world, note, column, outcome):
    # when
    result = run(gql, world, column, MY_RECORD)
    # then
    if outcome in ("alice", "bob"):
        patient = getattr(world, outcome)
        bodies = [{"node": {"body": "Penicillin rash in 2019."}}] if outcome == "alice" else []
        assert result.errors == []
        assert result.data == {
            "myHealthRecord": {"id": record_gid(patient), "allergies": "", "annotations": {"edges": bodies}}
        }
    else:
        assert result.codes == [outcome]
        assert result.data == refused(column, "myHealthRecord")


# --- patients list ----------------------------------------------------------------------

PATIENTS = """
{ patients { totalCount edges { node { id fullName
    healthRecord { id annotations { edges { node { body author { fullName } } } } } } } } }
"""


@matrix(
    {
        "anonymous": "UNAUTHENTICATED",
        "own_patient": {"alice": "record"},
        "other_patient": {"bob": "record"},
        "assigned_doctor": {"alice": "record"},
        "unassigned_doctor": {},
        "former_doctor": {},
        "staff": {"alice": None, "bob": None},  # demographics only
    }
)
def test_patients_list(gql, world, note, column, outcome):
    # when
    result = run(gql, world, column, PATIENTS)
    # then
    if isinstance(outcome, str):
        assert result.codes == [outcome]
        assert result.data is None
        return
    assert result.errors == []
    connection = result.data["patients"]
    assert connection["totalCount"] == len(outcome)
    seen = {edge["node"]["fullName"]: edge["node"]["healthRecord"] for edge in connection["edges"]}
    expected = {}
    for username, record in outcome.items():
        patient = getattr(world, username)
        if record is None:
            expected[patient.full_name] = None
        else:
            edges = (
                [{"node": {"body": "Penicillin rash in 2019.", "author": {"fullName": world.grey.full_name}}}]
                if username == "alice"
                else []
            )
            expected[patient.full_name] = {"id": record_gid(patient), "annotations": {"edges": edges}}
    assert seen == expected


# --- assignments list -------------------------------------------------------------------

ASSIGNMENTS = """
{ assignments { totalCount edges { node { active doctor { fullName }
    patient { fullName dateOfBirth medicalRecordNumber doctors { fullName } healthRecord { id } } } } } }
"""


# (doctor, active, what the caller sees of the patient: None, "demographics" or "record")
@matrix(
    {
        "anonymous": "UNAUTHENTICATED",
        "own_patient": [("grey", True, "record"), ("former", False, "record")],
        "other_patient": [],
        "assigned_doctor": [("grey", True, "record")],
        "unassigned_doctor": [],
        # the ended assignment shows (its dates), not whom it was about: exactly as node(id:) hides her
        "former_doctor": [("former", False, None)],
        "staff": [("grey", True, "demographics"), ("former", False, "demographics")],
        "emergency_doctor": [],  # a grant is not an assignment
    }
)
def test_assignments_list(gql, world, column, outcome):
    # when
    result = run(gql, world, column, ASSIGNMENTS)
    # then
    if isinstance(outcome, str):
        assert result.codes == [outcome]
        assert result.data is None
        return
    assert result.errors == []
    assert result.data["assignments"]["totalCount"] == len(outcome)
    got = sorted(
        (edge["node"]["doctor"]["fullName"], edge["node"]["active"], edge["node"]["patient"])
        for edge in result.data["assignments"]["edges"]
    )
    alice = {
        "fullName": world.alice.full_name,
        "dateOfBirth": world.alice.date_of_birth.isoformat(),
        "medicalRecordNumber": world.alice.medical_record_number,
        "doctors": [{"fullName": world.grey.full_name}],
    }
    record = {"id": record_gid(world.alice)}
    expected = sorted(
        (
            getattr(world, doctor).full_name,
            active,
            None if seen is None else {**alice, "healthRecord": record if seen == "record" else None},
        )
        for doctor, active, seen in outcome
    )
    assert got == expected


def test_a_former_doctor_assigned_again_sees_the_patient_on_the_ended_assignment_too(gql, world):
    # given dr.former is actively assigned to alice again
    factories.assign(doctor=world.former, patient=world.alice, by=world.coordinator)
    # when
    ended = "{ assignments(active: false) { edges { node { patient { fullName } } } } }"
    result = gql.execute(ended, user=world.former.user)
    # then
    assert result.errors == []
    assert result.data["assignments"]["edges"] == [{"node": {"patient": {"fullName": world.alice.full_name}}}]


# --- updateHealthRecord -----------------------------------------------------------------

UPDATE = "mutation ($input: UpdateHealthRecordInput!) { updateHealthRecord(input: $input) { id allergies } }"


@matrix(
    {
        "anonymous": "UNAUTHENTICATED",
        "own_patient": "alice",
        "other_patient": "bob",  # only ever their own record
        "assigned_doctor": "FORBIDDEN",
        "unassigned_doctor": "FORBIDDEN",
        "former_doctor": "FORBIDDEN",
        "staff": "FORBIDDEN",
    }
)
def test_update_health_record(gql, world, column, outcome):
    # when
    result = run(gql, world, column, UPDATE, {"input": {"allergies": "Latex"}})
    # then
    if outcome in ("alice", "bob"):
        patient = getattr(world, outcome)
        untouched = world.bob if outcome == "alice" else world.alice
        assert result.errors == []
        assert result.data == {"updateHealthRecord": {"id": record_gid(patient), "allergies": "Latex"}}
        assert HealthRecord.objects.get(patient=patient).allergies == "Latex"
        assert HealthRecord.objects.get(patient=untouched).allergies == ""
    else:
        assert result.codes == [outcome]
        assert result.data is None
        assert set(HealthRecord.objects.values_list("allergies", flat=True)) == {""}
        assert HealthRecordRevision.objects.count() == 0


# --- addAnnotation ----------------------------------------------------------------------

ADD = "mutation ($input: AddAnnotationInput!) { addAnnotation(input: $input) { body author { fullName } } }"


@matrix(
    {
        "anonymous": "UNAUTHENTICATED",
        "own_patient": "FORBIDDEN",
        "other_patient": "FORBIDDEN",
        "assigned_doctor": "OK",
        "unassigned_doctor": "NOT_FOUND",
        "former_doctor": "NOT_FOUND",
        "staff": "FORBIDDEN",
    }
)
def test_add_annotation(gql, world, column, outcome):
    # when
    result = run(gql, world, column, ADD, {"input": {"recordId": record_gid(world.alice), "body": "Follow up."}})
    # then
    if outcome == "OK":
        author = caller(world, column).doctor  # grey, or the doctor under emergency access
        assert result.errors == []
        assert result.data == {"addAnnotation": {"body": "Follow up.", "author": {"fullName": author.full_name}}}
        assert list(Annotation.objects.values_list("body", "author")) == [("Follow up.", author.pk)]
    else:
        assert result.codes == [outcome]
        assert result.data is None
        assert Annotation.objects.count() == 0


# --- retractAnnotation ------------------------------------------------------------------

RETRACT = "mutation ($input: RetractAnnotationInput!) { retractAnnotation(input: $input) { body retractionReason } }"


@matrix(
    {
        "anonymous": "UNAUTHENTICATED",
        "own_patient": "FORBIDDEN",
        "other_patient": "FORBIDDEN",
        "assigned_doctor": "OK",  # grey wrote it
        "unassigned_doctor": "NOT_FOUND",
        "former_doctor": "NOT_FOUND",
        "staff": "FORBIDDEN",
        "emergency_doctor": "FORBIDDEN",  # may annotate, but only the author retracts
    }
)
def test_retract_annotation(gql, world, note, column, outcome):
    # when
    variables = {"input": {"id": global_id("Annotation", note.pk), "reason": "Wrong chart."}}
    result = run(gql, world, column, RETRACT, variables)
    # then
    note.refresh_from_db()
    if outcome == "OK":
        assert result.errors == []
        assert result.data == {
            "retractAnnotation": {"body": "Penicillin rash in 2019.", "retractionReason": "Wrong chart."}
        }
        assert note.retracted_at is not None
    else:
        assert result.codes == [outcome]
        assert result.data is None
        assert note.retracted_at is None


def test_retract_annotation_by_an_assigned_doctor_who_is_not_the_author_is_forbidden(gql, world, note):
    # given house is assigned to alice too, but grey wrote the note
    factories.assign(doctor=world.house, patient=world.alice, by=world.coordinator)
    # when
    result = gql.execute(
        RETRACT, {"input": {"id": global_id("Annotation", note.pk), "reason": "Not mine."}}, user=world.house.user
    )
    # then
    assert result.codes == ["FORBIDDEN"]
    assert result.data is None
    note.refresh_from_db()
    assert note.retracted_at is None


def test_retract_own_annotation_after_the_assignment_ended_is_not_found(gql, world):
    # given house annotated alice's record while assigned, then was unassigned
    assignment = factories.assign(doctor=world.house, patient=world.alice, by=world.coordinator)
    own = annotation_add(actor=world.house.user, record=world.alice.health_record, body="Mine.")
    factories.end(assignment, by=world.coordinator)
    # when
    result = gql.execute(
        RETRACT, {"input": {"id": global_id("Annotation", own.pk), "reason": "Oops."}}, user=world.house.user
    )
    # then
    assert result.codes == ["NOT_FOUND"]
    assert result.data is None
    own.refresh_from_db()
    assert own.retracted_at is None


# --- assignDoctor / endAssignment -------------------------------------------------------

ASSIGN = """
mutation ($input: AssignDoctorInput!) {
  assignDoctor(input: $input) { active doctor { fullName } patient { fullName } }
}
"""


def house_to_bob(world):
    return {"input": {"doctorId": global_id("Doctor", world.house.pk), "patientId": global_id("Patient", world.bob.pk)}}


END = "mutation ($input: EndAssignmentInput!) { endAssignment(input: $input) { active endedAt } }"

MANAGE = {
    "anonymous": "UNAUTHENTICATED",
    "own_patient": "FORBIDDEN",
    "other_patient": "FORBIDDEN",
    "assigned_doctor": "FORBIDDEN",
    "unassigned_doctor": "FORBIDDEN",
    "former_doctor": "FORBIDDEN",
    "staff": "OK",
}


@matrix(MANAGE)
def test_assign_doctor(gql, world, column, outcome):
    # given house is not assigned to bob
    variables = house_to_bob(world)
    # when
    result = run(gql, world, column, ASSIGN, variables)
    # then
    active = Assignment.objects.filter(doctor=world.house, patient=world.bob, ended_at__isnull=True)
    if outcome == "OK":
        assert result.errors == []
        assert result.data == {
            "assignDoctor": {
                "active": True,
                "doctor": {"fullName": world.house.full_name},
                "patient": {"fullName": world.bob.full_name},
            }
        }
        assert active.count() == 1
    else:
        assert result.codes == [outcome]
        assert result.data is None
        assert not active.exists()


@pytest.mark.parametrize("doctor", ["grey", "house"])
def test_a_doctor_cannot_assign_themselves(gql, world, doctor):
    # given
    me = getattr(world, doctor)
    variables = {"input": {"doctorId": global_id("Doctor", me.pk), "patientId": global_id("Patient", world.bob.pk)}}
    # when
    result = gql.execute(ASSIGN, variables, user=me.user)
    # then
    assert result.codes == ["FORBIDDEN"]
    assert not Assignment.objects.filter(patient=world.bob).exists()


@matrix(MANAGE)
def test_end_assignment(gql, world, column, outcome):
    # given grey's active assignment to alice
    assignment = Assignment.objects.get(doctor=world.grey, patient=world.alice)
    # when
    result = run(gql, world, column, END, {"input": {"id": global_id("Assignment", assignment.pk)}})
    # then
    assignment.refresh_from_db()
    if outcome == "OK":
        assert result.errors == []
        assert result.data["endAssignment"]["active"] is False
        assert result.data["endAssignment"]["endedAt"] is not None
        assert assignment.ended_at is not None
    else:
        assert result.codes == [outcome]
        assert result.data is None
        assert assignment.ended_at is None


@pytest.mark.parametrize("mutation", ["assign", "end"])
def test_staff_without_the_model_permission_is_forbidden(gql, world, mutation):
    # given a clerk: staff, but without care.add_assignment / care.change_assignment
    if mutation == "assign":
        query = ASSIGN
        variables = house_to_bob(world)
    else:
        query = END
        assignment = Assignment.objects.get(doctor=world.grey, patient=world.alice)
        variables = {"input": {"id": global_id("Assignment", assignment.pk)}}
    before = list(Assignment.objects.order_by("id").values_list("id", "ended_at"))
    # when
    result = gql.execute(query, variables, user=world.staff_without_perms)
    # then
    assert result.codes == ["FORBIDDEN"]
    assert result.data is None
    assert list(Assignment.objects.order_by("id").values_list("id", "ended_at")) == before


# --- hidden answers exactly like missing ------------------------------------------------


def strip_volatile(result):
    """The whole answer, minus nothing: status, data, messages, codes, paths and locations."""
    return result.status_code, result.body


def hidden_and_missing(world, note):
    """(caller, query, variables for a hidden object, variables for a missing one)."""
    missing = str(uuid.uuid4())
    grey_assignment = Assignment.objects.get(doctor=world.grey, patient=world.alice)
    return {
        "node HealthRecord": (
            world.house.user,
            NODE_RECORD,
            {"id": record_gid(world.alice)},
            {"id": global_id("HealthRecord", missing)},
        ),
        "node HealthRecord (staff)": (
            world.coordinator,
            NODE_RECORD,
            {"id": record_gid(world.alice)},
            {"id": global_id("HealthRecord", missing)},
        ),
        "node Annotation": (
            world.former.user,
            NODE_ANNOTATION,
            {"id": global_id("Annotation", note.pk)},
            {"id": global_id("Annotation", missing)},
        ),
        "node Patient": (
            world.house.user,
            "query ($id: ID!) { node(id: $id) { id } }",
            {"id": global_id("Patient", world.alice.pk)},
            {"id": global_id("Patient", missing)},
        ),
        "node Assignment": (
            world.house.user,
            "query ($id: ID!) { node(id: $id) { id } }",
            {"id": global_id("Assignment", grey_assignment.pk)},
            {"id": global_id("Assignment", missing)},
        ),
        "node User": (
            world.bob.user,
            "query ($id: ID!) { node(id: $id) { id } }",
            {"id": global_id("User", world.alice.user.pk)},
            {"id": global_id("User", 987654321)},
        ),
        "addAnnotation": (
            world.house.user,
            ADD,
            {"input": {"recordId": record_gid(world.alice), "body": "x"}},
            {"input": {"recordId": global_id("HealthRecord", missing), "body": "x"}},
        ),
        "retractAnnotation": (
            world.former.user,
            RETRACT,
            {"input": {"id": global_id("Annotation", note.pk), "reason": "x"}},
            {"input": {"id": global_id("Annotation", missing), "reason": "x"}},
        ),
        # A caller of the wrong role is refused before any lookup: existing or not, same answer.
        "endAssignment (doctor, own assignment)": (
            world.grey.user,
            END,
            {"input": {"id": global_id("Assignment", grey_assignment.pk)}},
            {"input": {"id": global_id("Assignment", missing)}},
        ),
        "assignDoctor (patient)": (
            world.bob.user,
            ASSIGN,
            house_to_bob(world),
            {"input": {"doctorId": global_id("Doctor", missing), "patientId": global_id("Patient", missing)}},
        ),
        "addAnnotation (patient)": (
            world.bob.user,
            ADD,
            {"input": {"recordId": record_gid(world.alice), "body": "x"}},
            {"input": {"recordId": global_id("HealthRecord", missing), "body": "x"}},
        ),
        "retractAnnotation (staff)": (
            world.coordinator,
            RETRACT,
            {"input": {"id": global_id("Annotation", note.pk), "reason": "x"}},
            {"input": {"id": global_id("Annotation", missing), "reason": "x"}},
        ),
    }


CASES = {
    "node HealthRecord": "NOT_FOUND",
    "node HealthRecord (staff)": "NOT_FOUND",
    "node Annotation": "NOT_FOUND",
    "node Patient": "NOT_FOUND",
    "node Assignment": "NOT_FOUND",
    "node User": "NOT_FOUND",
    "addAnnotation": "NOT_FOUND",
    "retractAnnotation": "NOT_FOUND",
    "endAssignment (doctor, own assignment)": "FORBIDDEN",
    "assignDoctor (patient)": "FORBIDDEN",
    "addAnnotation (patient)": "FORBIDDEN",
    "retractAnnotation (staff)": "FORBIDDEN",
}


@pytest.mark.parametrize(("case", "code"), CASES.items())
def test_a_hidden_object_answers_exactly_like_a_missing_one(gql, world, note, case, code):
    # given an object the caller may not see, and an id that names nothing
    user, query, hidden, missing = hidden_and_missing(world, note)[case]
    # when
    hidden_result = gql.execute(query, hidden, user=user)
    missing_result = gql.execute(query, missing, user=user)
    # then both answer the same code, byte for byte the same
    assert hidden_result.codes == [code]
    assert strip_volatile(hidden_result) == strip_volatile(missing_result)


@pytest.mark.parametrize("mutation", ["assignDoctor doctor", "assignDoctor patient", "endAssignment"])
def test_staff_managing_a_missing_object_get_not_found_and_nothing_changes(gql, world, mutation):
    # given ids that name nothing
    missing = str(uuid.uuid4())
    doctor, patient = global_id("Doctor", world.house.pk), global_id("Patient", world.bob.pk)
    query, variables = {
        "assignDoctor doctor": (ASSIGN, {"input": {"doctorId": global_id("Doctor", missing), "patientId": patient}}),
        "assignDoctor patient": (ASSIGN, {"input": {"doctorId": doctor, "patientId": global_id("Patient", missing)}}),
        "endAssignment": (END, {"input": {"id": global_id("Assignment", missing)}}),
    }[mutation]
    before = list(Assignment.objects.order_by("id").values_list("id", "ended_at"))
    # when
    result = gql.execute(query, variables, user=world.coordinator)
    # then
    assert result.codes == ["NOT_FOUND"]
    assert result.errors[0]["message"] == "Not found."
    assert result.data is None
    assert list(Assignment.objects.order_by("id").values_list("id", "ended_at")) == before


# --- beyond the table: superusers, the doctor directory ---------------------------------


def test_a_superuser_sees_no_phi_through_the_api(gql, world, note):
    # given a superuser without a profile
    from users.models import User

    root = User.objects.create_superuser(username="root", email="root@clinic.example", password="x" * 16)
    # when
    record = gql.execute(NODE_RECORD, {"id": record_gid(world.alice)}, user=root)
    annotation = gql.execute(NODE_ANNOTATION, {"id": global_id("Annotation", note.pk)}, user=root)
    patients = gql.execute(PATIENTS, user=root)
    add = gql.execute(ADD, {"input": {"recordId": record_gid(world.alice), "body": "Root was here."}}, user=root)
    # then
    assert (record.codes, record.data) == (["NOT_FOUND"], {"node": None})
    assert (annotation.codes, annotation.data) == (["NOT_FOUND"], {"node": None})
    assert patients.errors == []
    assert {edge["node"]["healthRecord"] for edge in patients.data["patients"]["edges"]} == {None}
    assert add.codes == ["FORBIDDEN"]
    assert Annotation.objects.count() == 1


DOCTORS = "{ doctors { totalCount edges { node { fullName specialty } } } }"


@matrix(
    {
        "anonymous": "UNAUTHENTICATED",
        "own_patient": "ALL",
        "other_patient": "ALL",
        "assigned_doctor": "ALL",
        "unassigned_doctor": "ALL",
        "former_doctor": "ALL",
        "staff": "ALL",
    }
)
def test_doctors_directory(gql, world, column, outcome):
    # when
    result = run(gql, world, column, DOCTORS)
    # then
    if outcome == "UNAUTHENTICATED":
        assert result.codes == [outcome]
        assert result.data is None
    else:
        assert result.errors == []
        names = sorted(edge["node"]["fullName"] for edge in result.data["doctors"]["edges"])
        doctors = [world.grey, world.house, world.former] + ([world.emergency] if column == "emergency_doctor" else [])
        assert names == sorted(d.full_name for d in doctors)
        assert result.data["doctors"]["totalCount"] == len(doctors)


# --- every other path to PHI ------------------------------------------------------------

PATIENT_PATH = """
query ($id: ID!) { node(id: $id) { ... on Patient { fullName
  healthRecord { allergies annotations { edges { node { body } } } } } } }
"""
USER_PATH = """
query ($id: ID!) { node(id: $id) { ... on User { username
  patient { healthRecord { allergies annotations { edges { node { body } } } } } } } }
"""
PHI = {"allergies": "Penicillin", "annotations": {"edges": [{"node": {"body": "Penicillin rash in 2019."}}]}}


@matrix(
    {
        "anonymous": "UNAUTHENTICATED",
        "own_patient": "PHI",
        "other_patient": "NOT_FOUND",
        "assigned_doctor": "PHI",
        "unassigned_doctor": "NOT_FOUND",
        "former_doctor": "NOT_FOUND",
        "staff": "DEMOGRAPHICS",
    }
)
def test_phi_through_a_patient_node(gql, world, note, column, outcome):
    # given
    HealthRecord.objects.filter(patient=world.alice).update(allergies="Penicillin")
    # when
    result = run(gql, world, column, PATIENT_PATH, {"id": global_id("Patient", world.alice.pk)})
    # then
    if outcome in ("PHI", "DEMOGRAPHICS"):
        assert result.errors == []
        record = PHI if outcome == "PHI" else None
        assert result.data == {"node": {"fullName": world.alice.full_name, "healthRecord": record}}
    else:
        assert result.codes == [outcome]
        assert result.data == refused(column, "node")


@matrix(
    {
        "anonymous": "UNAUTHENTICATED",
        "own_patient": "PHI",
        "other_patient": "NOT_FOUND",
        "assigned_doctor": "NOT_FOUND",  # users are visible to themselves and staff only
        "unassigned_doctor": "NOT_FOUND",
        "former_doctor": "NOT_FOUND",
        "staff": "DEMOGRAPHICS",
    }
)
def test_phi_through_a_user_node(gql, world, note, column, outcome):
    # given
    HealthRecord.objects.filter(patient=world.alice).update(allergies="Penicillin")
    # when
    result = run(gql, world, column, USER_PATH, {"id": global_id("User", world.alice.user.pk)})
    # then
    if outcome in ("PHI", "DEMOGRAPHICS"):
        assert result.errors == []
        record = PHI if outcome == "PHI" else None
        assert result.data == {"node": {"username": "alice", "patient": {"healthRecord": record}}}
    else:
        assert result.codes == [outcome]
        assert result.data == refused(column, "node")


# --- the account lifecycle (issue 17) ----------------------------------------------------

REGISTER_PATIENT = """
mutation ($input: RegisterPatientInput!) { registerPatient(input: $input) { user { username role } } }
"""
DEACTIVATE = "mutation ($input: DeactivateUserInput!) { deactivateUser(input: $input) { isActive } }"
REACTIVATE = "mutation ($input: ReactivateUserInput!) { reactivateUser(input: $input) { isActive } }"
ACCEPT_INVITATION = """
mutation ($input: AcceptInvitationInput!) { acceptInvitation(input: $input) { token } }
"""
REQUEST_RESET = "mutation ($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { accepted } }"
RESET_PASSWORD = "mutation ($input: ResetPasswordInput!) { resetPassword(input: $input) { reset } }"


def grant_account_management(world) -> None:
    """The staff column may manage accounts (users.add_user, users.deactivate_user); nobody else holds them."""
    from django.contrib.auth.models import Permission

    world.coordinator.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="users", codename__in=["add_user", "deactivate_user"])
    )


@matrix(MANAGE)
def test_register_patient(gql, world, column, outcome):
    # given
    from users.models import User

    grant_account_management(world)
    variables = {"input": {"email": "newcomer@clinic.example", "firstName": "New", "lastName": "Comer",
                           "dateOfBirth": "1990-01-01"}}
    # when
    result = run(gql, world, column, REGISTER_PATIENT, variables)
    # then
    made = User.objects.filter(email="newcomer@clinic.example")
    if outcome == "OK":
        assert result.errors == []
        assert result.data == {"registerPatient": {"user": {"username": "newcomer@clinic.example", "role": "PATIENT"}}}
        assert made.count() == 1
    else:
        assert result.codes == [outcome]
        assert result.data is None
        assert not made.exists()


@matrix(MANAGE)
@pytest.mark.parametrize(("document", "root", "active_after"), [(DEACTIVATE, "deactivateUser", False),
                                                                 (REACTIVATE, "reactivateUser", True)])
def test_deactivate_and_reactivate_user(gql, world, column, outcome, document, root, active_after):
    # given a patient outside the table's columns, active for deactivation, inactive for reactivation
    grant_account_management(world)
    target = factories.make_patient(username="target").user
    type(target).objects.filter(pk=target.pk).update(is_active=not active_after)
    # when
    result = run(gql, world, column, document, {"input": {"id": global_id("User", target.pk)}})
    # then
    target.refresh_from_db()
    if outcome == "OK":
        assert result.errors == []
        assert result.data == {root: {"isActive": active_after}}
        assert target.is_active is active_after
    else:
        assert result.codes == [outcome]
        assert result.data is None
        assert target.is_active is not active_after


PUBLIC_LINKS = dict.fromkeys(COLUMNS, "TOKEN_INVALID")


@matrix(PUBLIC_LINKS)
@pytest.mark.parametrize(("document", "field"), [(ACCEPT_INVITATION, "password"), (RESET_PASSWORD, "newPassword")])
def test_account_links_answer_everyone_alike(gql, world, column, outcome, document, field):
    # a link's token is the credential: whoever presents a wrong one, signed in or not, is told the same
    result = run(gql, world, column, document, {"input": {"token": "not-a-real-token", field: "a-passphrase-2026"}})
    assert result.codes == [outcome]
    assert result.data is None


@matrix(dict.fromkeys(COLUMNS, "OK"))
def test_request_password_reset_answers_everyone_alike(gql, world, column, outcome):
    result = run(gql, world, column, REQUEST_RESET, {"input": {"email": "bob@clinic.example"}})
    assert result.errors == []
    assert result.data == {"requestPasswordReset": {"accepted": True}}



# --- MFA (issue 17): each caller enrols and disables only their own TOTP; staff reset others' ----------

START_TOTP = "mutation { startTotpEnrollment { secret otpauthUri } }"
DISABLE_TOTP = "mutation ($input: DisableTotpInput!) { disableTotp(input: $input) { disabled } }"
VERIFY_MFA = "mutation ($input: VerifyMfaInput!) { verifyMfa(input: $input) { token } }"
RESET_USER_MFA = "mutation ($input: ResetUserMfaInput!) { resetUserMfa(input: $input) { id } }"
SIGNED_IN = {column: "OK" for column in COLUMNS} | {"anonymous": "UNAUTHENTICATED"}


@matrix(SIGNED_IN)
def test_start_totp_enrollment_is_for_ones_own_account(gql, world, column, outcome):
    from mfa.models import TotpDevice

    result = run(gql, world, column, START_TOTP)
    if outcome == "OK":
        assert result.errors == []
        assert result.data["startTotpEnrollment"]["otpauthUri"].startswith("otpauth://totp/")
        assert list(TotpDevice.objects.values_list("user", flat=True)) == [caller(world, column).pk]
    else:
        assert (result.codes, result.data) == ([outcome], None)
        assert not TotpDevice.objects.exists()


@matrix({column: "CONFLICT" for column in COLUMNS} | {"anonymous": "UNAUTHENTICATED"})
def test_disable_totp_acts_on_ones_own_account_only(gql, world, column, outcome):
    # given a doctor outside the table's columns has TOTP on; no caller of the table has it
    with time_machine.travel(T0, tick=False):
        enrol(gql, factories.make_doctor(username="dr.enrolled").user)
    result = run(gql, world, column, DISABLE_TOTP, {"input": {"password": factories.PASSWORD, "code": "123456"}})
    assert (result.codes, result.data) == ([outcome], None)


@matrix(dict.fromkeys(COLUMNS, "TOKEN_INVALID"))
def test_verify_mfa_answers_everyone_alike(gql, world, column, outcome):
    result = run(gql, world, column, VERIFY_MFA, {"input": {"mfaToken": "not-a-real-token", "code": "123456"}})
    assert (result.codes, result.data) == ([outcome], None)


@matrix(MANAGE)
def test_reset_user_mfa(gql, world, column, outcome):
    from django.contrib.auth.models import Permission

    from mfa.models import TotpDevice

    # given a doctor outside the table's columns has TOTP on, and the staff column holds mfa.reset_mfa
    world.coordinator.user_permissions.add(Permission.objects.get(content_type__app_label="mfa", codename="reset_mfa"))
    enrolled = factories.make_doctor(username="dr.enrolled").user
    with time_machine.travel(T0, tick=False):
        enrol(gql, enrolled)
    target = global_id("User", enrolled.pk)
    # when
    result = run(gql, world, column, RESET_USER_MFA, {"input": {"id": target}})
    # then
    if outcome == "OK":
        assert result.errors == [] and result.data == {"resetUserMfa": {"id": target}}
        assert not TotpDevice.objects.filter(user=enrolled).exists()
    else:
        assert (result.codes, result.data) == ([outcome], None)
        assert TotpDevice.objects.filter(user=enrolled).exists()
