"""A patient's demographics (name, date of birth, MRN) by every path that reaches a Patient.

DESIGN.md section 2 (turn 2): visible to the patient, actively assigned doctors and staff, and
nobody else. A formerly assigned doctor keeps the ended assignment (its dates) but its `patient`
is null, exactly as `node(id:)` hides her. And patients see who assigned a doctor by name and
role only.
"""

import json

import pytest

from care.models import Assignment
from schema import schema
from schema.internals import graphql_schema
from tests.authz.test_access_matrix import COLUMNS, caller, matrix, record_gid, run
from tests.conftest import global_id

DEMOGRAPHICS = "fullName dateOfBirth medicalRecordNumber"


def paths(world) -> dict[str, tuple[str, dict | None]]:
    """Every way a document can reach alice's Patient object, by name."""
    grey_assignment = Assignment.objects.get(doctor=world.grey, patient=world.alice)
    former_assignment = Assignment.objects.get(doctor=world.former, patient=world.alice)
    node = "query ($id: ID!) { node(id: $id) { ... on %s } }"
    return {
        "patients": (f"{{ patients {{ edges {{ node {{ {DEMOGRAPHICS} }} }} }} }}", None),
        "patients search by MRN": (
            f"query ($q: String) {{ patients(search: $q) {{ edges {{ node {{ {DEMOGRAPHICS} }} }} }} }}",
            {"q": world.alice.medical_record_number},
        ),
        "node Patient": (node % f"Patient {{ {DEMOGRAPHICS} }}", {"id": global_id("Patient", world.alice.pk)}),
        "assignments": (
            f"{{ assignments {{ edges {{ node {{ patient {{ {DEMOGRAPHICS} doctors {{ fullName }} }} }} }} }} }}",
            None,
        ),
        "ended assignments": (
            f"{{ assignments(active: false) {{ edges {{ node {{ endedAt patient {{ {DEMOGRAPHICS} }} }} }} }} }}",
            None,
        ),
        "node Assignment (active)": (
            node % f"Assignment {{ patient {{ {DEMOGRAPHICS} }} }}",
            {"id": global_id("Assignment", grey_assignment.pk)},
        ),
        "node Assignment (ended)": (
            node % f"Assignment {{ endedAt patient {{ {DEMOGRAPHICS} }} }}",
            {"id": global_id("Assignment", former_assignment.pk)},
        ),
        "node User": (
            node % f"User {{ patient {{ {DEMOGRAPHICS} }} }}",
            {"id": global_id("User", world.alice.user.pk)},
        ),
        "node HealthRecord": (
            node % f"HealthRecord {{ patient {{ {DEMOGRAPHICS} }} }}",
            {"id": record_gid(world.alice)},
        ),
        "myHealthRecord": (f"{{ myHealthRecord {{ patient {{ {DEMOGRAPHICS} }} }} }}", None),
        "me": (f"{{ me {{ patient {{ {DEMOGRAPHICS} }} }} }}", None),
    }


def shows_alice(world, result) -> bool:
    text = json.dumps(result.body)
    return world.alice.medical_record_number in text or json.dumps(world.alice.full_name) in text


@matrix(
    {
        "anonymous": set(),
        "own_patient": {
            "patients",
            "patients search by MRN",
            "node Patient",
            "assignments",
            "ended assignments",
            "node Assignment (active)",
            "node Assignment (ended)",
            "node User",
            "node HealthRecord",
            "myHealthRecord",
            "me",
        },
        "other_patient": set(),
        "assigned_doctor": {
            "patients",
            "patients search by MRN",
            "node Patient",
            "assignments",
            "node Assignment (active)",
            "node HealthRecord",
        },
        "unassigned_doctor": set(),
        "former_doctor": set(),  # not through the ended assignment either
        "staff": {
            "patients",
            "patients search by MRN",
            "node Patient",
            "assignments",
            "ended assignments",
            "node Assignment (active)",
            "node Assignment (ended)",
            "node User",
        },
        # under emergency access (issue 18): like an assigned doctor, but a grant is no assignment
        "emergency_doctor": {"patients", "patients search by MRN", "node Patient", "node HealthRecord"},
    }
)
def test_demographics_by_every_path(gql, world, column, outcome):
    # given every path to alice's Patient object
    # when the caller follows each
    shown = {
        name
        for name, (query, variables) in paths(world).items()
        if shows_alice(world, run(gql, world, column, query, variables))
    }
    # then her name and MRN come back exactly where the caller may see them, nowhere else
    assert shown == outcome


def test_a_former_doctor_keeps_the_ended_assignment_without_the_patient(gql, world):
    # given dr.former's assignment to alice has ended
    former_assignment = Assignment.objects.get(doctor=world.former, patient=world.alice)
    # when he lists his ended assignments, and fetches that one by id
    listed = gql.execute(
        "{ assignments(active: false) { edges { node { id active endedAt doctor { fullName }"
        " patient { fullName dateOfBirth medicalRecordNumber doctors { fullName } } } } } }",
        user=world.former.user,
    )
    by_id = gql.execute(
        "query ($id: ID!) { node(id: $id) { ... on Assignment { endedAt patient { fullName } } } }",
        {"id": global_id("Assignment", former_assignment.pk)},
        user=world.former.user,
    )
    # then the assignment and its dates are there, the patient is null, and no error says why
    assert listed.errors == []
    assert listed.data["assignments"]["edges"] == [
        {
            "node": {
                "id": global_id("Assignment", former_assignment.pk),
                "active": False,
                "endedAt": former_assignment.ended_at.isoformat(),
                "doctor": {"fullName": world.former.full_name},
                "patient": None,
            }
        }
    ]
    assert by_id.errors == []
    assert by_id.data == {"node": {"endedAt": former_assignment.ended_at.isoformat(), "patient": None}}


def test_every_field_that_returns_a_patient_is_covered_here():
    # given every field of the schema whose type is Patient (or a list or connection of them)
    found = set()
    # (the built graphql-core schema, what clients see: the converter's own type map also caches
    # generic types other tests convert, whose fields cannot be resolved)
    for type_name, graphql_type in graphql_schema(schema).type_map.items():
        for field_name, field in getattr(graphql_type, "fields", {}).items():
            named = field.type
            while hasattr(named, "of_type"):
                named = named.of_type
            if named.name in ("Patient", "PatientConnection"):
                found.add(f"{type_name}.{field_name}")
    # then each is a path measured above (or the auditors' trail, staff by definition; and `node`,
    # typed Node): a new one must be added to `paths` before it ships
    assert found == {
        "Query.patients",
        "PatientEdge.node",  # the patients connection's
        "Assignment.patient",
        "User.patient",
        "HealthRecord.patient",
        "AuditEvent.patient",
        "EmergencyAccess.patient",  # reviewers, and the doctor while in force: tests/care/test_emergency_access.py
    }


# --- Assignment.assignedBy: patients see who assigned a doctor by name and role only -----

ASSIGNED_BY = "{ assignments { edges { node { assigner { fullName role } assignedBy { username email } } } } }"


@matrix(
    {
        "anonymous": "UNAUTHENTICATED",
        "own_patient": "NAME_AND_ROLE",
        "other_patient": "NONE",
        "assigned_doctor": "ACCOUNT",
        "unassigned_doctor": "NONE",
        "former_doctor": "ACCOUNT",
        "staff": "ACCOUNT",
        "emergency_doctor": "NONE",  # no assignments of their own
    }
)
def test_who_assigned_a_doctor(gql, world, column, outcome):
    # when
    result = run(gql, world, column, ASSIGNED_BY)
    # then
    if outcome == "UNAUTHENTICATED":
        assert result.codes == [outcome]
        return
    assert result.errors == []
    nodes = [edge["node"] for edge in result.data["assignments"]["edges"]]
    if outcome == "NONE":
        assert nodes == []
        return
    coordinator = world.coordinator
    assert nodes
    assert {json.dumps(node["assigner"]) for node in nodes} == {
        json.dumps({"fullName": coordinator.full_name, "role": "STAFF"})
    }
    account = {"username": coordinator.username, "email": coordinator.email}
    assert {json.dumps(node["assignedBy"]) for node in nodes} == {json.dumps(account if outcome == "ACCOUNT" else None)}
    if outcome == "NAME_AND_ROLE":
        assert coordinator.username not in json.dumps(result.body)
        assert coordinator.email not in json.dumps(result.body)


@pytest.mark.parametrize("column", [c for c in COLUMNS if c != "anonymous"])
def test_the_assigner_of_an_assignment_made_just_now(gql, world, column):
    # given staff assign dr.house to alice
    result = gql.execute(
        "mutation ($input: AssignDoctorInput!) { assignDoctor(input: $input) { assigner { fullName role }"
        " assignedBy { username } patient { fullName } } }",
        {"input": {"doctorId": global_id("Doctor", world.house.pk), "patientId": global_id("Patient", world.alice.pk)}},
        user=world.coordinator,
    )
    # then the mutation's own answer carries the account (staff) and the patient
    assert result.errors == []
    assert result.data["assignDoctor"] == {
        "assigner": {"fullName": world.coordinator.full_name, "role": "STAFF"},
        "assignedBy": {"username": "coordinator"},
        "patient": {"fullName": world.alice.full_name},
    }
    # and what each caller sees of it afterwards follows their column
    seen = run(
        gql,
        world,
        column,
        "{ assignments(active: true) { edges { node { doctor { fullName } assignedBy { username } } } } }",
    )
    house = [
        e["node"] for e in seen.data["assignments"]["edges"] if e["node"]["doctor"]["fullName"] == world.house.full_name
    ]
    if caller(world, column) == world.alice.user:
        assert house == [{"doctor": {"fullName": world.house.full_name}, "assignedBy": None}]
    elif column == "staff":
        assert house == [{"doctor": {"fullName": world.house.full_name}, "assignedBy": {"username": "coordinator"}}]
    elif column == "unassigned_doctor":  # dr.house himself, now assigned
        assert house == [{"doctor": {"fullName": world.house.full_name}, "assignedBy": {"username": "coordinator"}}]
    else:
        assert house == []
