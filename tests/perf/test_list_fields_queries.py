"""Every list in the schema costs a constant number of SQL queries, whatever its length.

The schema is walked for its list and connection fields; each must be named by a case below,
and each case runs its query at two sizes of data and pins the count at both. A new list
field fails `test_every_list_field_is_covered` until a case measures it.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission
from strawberry.relay import Connection
from strawberry.types.base import StrawberryList, StrawberryObjectDefinition, StrawberryOptional

from audit.models import Action
from audit.services import AuditDraft, audit_events_append
from records.services import annotation_add, health_record_update
from schema import schema
from tests import factories
from tests.conftest import access_token
from users.models import Patient, User
from users.sessions import session_create

SMALL, BIG = 2, 12


def list_fields() -> set[str]:
    """`Type.field` for every list or connection field of the schema (a connection's own
    `edges` belong to the field that returns the connection)."""
    found = set()
    for name, entry in schema.schema_converter.type_map.items():
        definition = getattr(entry, "definition", None)
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        if isinstance(definition.origin, type) and issubclass(definition.origin, Connection):
            continue
        for field in definition.fields:
            type_ = field.type
            while isinstance(type_, StrawberryOptional):
                type_ = type_.of_type
            is_connection = isinstance(type_, type) and issubclass(type_, Connection)
            if is_connection or isinstance(type_, StrawberryList):
                found.add(f"{name}.{schema.config.name_converter.get_graphql_name(field)}")
    return found


@dataclass
class Case:
    covers: tuple[str, ...]  # the list fields this query measures
    query: str
    caller: Callable[[], User]  # made once, before the data grows
    grow: Callable[[User, int], None]  # adds `n` items to every list the query reads
    lengths: Callable[[dict], list[int]]  # the lengths of those lists in a response
    queries: int


def edges(connection: dict) -> list[dict]:
    return [edge["node"] for edge in connection["edges"]]


def fields_listed(events: list[dict]) -> int:
    return sum(len(event["fields"]) for event in events)


# --- patients, their doctors, doctors, assignments ------------------------------------------


def staff_caller() -> User:
    return factories.make_staff()


def grow_assigned_patients(staff: User, n: int) -> None:
    doctors = (factories.make_doctor(), factories.make_doctor())
    for _ in range(n):
        patient = factories.make_patient()
        for doctor in doctors:
            factories.assign(doctor=doctor, patient=patient, by=staff)


def grow_doctors(_caller: User, n: int) -> None:
    for _ in range(n):
        factories.make_doctor()


# --- a patient's record: annotations, history, changes ----------------------------------------

PATIENT_RECORD_FIELDS = ("allergies", "medications", "conditions", "notes")


def patient_caller() -> User:
    patient = factories.make_patient()
    doctor = factories.make_doctor(username=f"doc-of-{patient.user.username}")
    factories.assign(doctor=doctor, patient=patient)
    return patient.user


def grow_record(user: User, n: int) -> None:
    record = user.patient.health_record
    doctor = record.patient.assignments.get().doctor
    for k in range(n):
        annotation_add(actor=doctor.user, record=record, body=f"Note {k}")
        # each revision changes more fields as the data grows: `changes` grows too
        changed = PATIENT_RECORD_FIELDS[: 1 if n == SMALL else len(PATIENT_RECORD_FIELDS)]
        health_record_update(actor=user, record=record, changes={name: f"{name} v{n}.{k}" for name in changed})


# --- sessions, the access log, the audit trail ------------------------------------------------


def grow_sessions(user: User, n: int) -> None:
    for _ in range(n):
        session_create(user=user)


def grow_access_log(user: User, n: int) -> None:
    record = user.patient.health_record
    fields = ("allergies",) if n == SMALL else PATIENT_RECORD_FIELDS
    audit_events_append(
        actor=user,
        drafts=[
            AuditDraft(action=Action.RECORD_READ, patient_id=record.patient_id, object_type="records.HealthRecord",
                       object_id=str(record.pk), fields=fields)
            for _ in range(n)
        ],
    )


def auditor_caller() -> User:
    auditor = factories.make_staff(permissions=())
    auditor.user_permissions.add(Permission.objects.get(content_type__app_label="audit", codename="view_auditevent"))
    factories.make_patient()  # the one patient the trail's events are about
    return User.objects.get(pk=auditor.pk)


def grow_trail(_auditor: User, n: int) -> None:
    grow_access_log(Patient.objects.get().user, n)


# --- emergency accesses (issue 18) -------------------------------------------------------------


def reviewer_caller() -> User:
    return factories.make_staff(permissions=("view_emergencyaccess", "change_emergencyaccess"))


def grow_emergency_accesses(_reviewer: User, n: int) -> None:
    for _ in range(n):
        factories.break_glass(doctor=factories.make_doctor(), patient=factories.make_patient())


CASES = {
    "patients": Case(
        covers=("Query.patients", "Patient.doctors"),
        query="""{ patients(first: 100) { totalCount edges { node {
            fullName dateOfBirth medicalRecordNumber doctors { fullName specialty } } } } }""",
        caller=staff_caller,
        grow=grow_assigned_patients,
        lengths=lambda data: [len(edges(data["patients"])), sum(len(p["doctors"]) for p in edges(data["patients"]))],
        queries=4,  # 3 + the one append auditing staff's reads of the page's demographics
    ),
    "doctors": Case(
        covers=("Query.doctors",),
        query="{ doctors(first: 100) { totalCount edges { cursor node { fullName specialty } } } }",
        caller=staff_caller,
        grow=grow_doctors,
        lengths=lambda data: [len(edges(data["doctors"]))],
        queries=2,
    ),
    "assignments": Case(
        covers=("Query.assignments",),
        query="""{ assignments(first: 100) { totalCount edges { node {
            active createdAt endedAt doctor { fullName } patient { fullName }
            assignedBy { fullName username } } } } }""",
        caller=staff_caller,
        grow=grow_assigned_patients,
        lengths=lambda data: [len(edges(data["assignments"]))],
        queries=3,  # 2 + the one append auditing staff's reads of the patients' demographics
    ),
    "record": Case(
        covers=("HealthRecord.annotations", "HealthRecord.history", "HealthRecordRevision.changes"),
        query="""{ myHealthRecord { allergies
            annotations(first: 100) { totalCount edges { node { body createdAt author { fullName } } } }
            history(first: 100) { edges { node {
                changedAt changedBy { fullName } changes { field old new } } } } } }""",
        caller=patient_caller,
        grow=grow_record,
        lengths=lambda data: [
            len(edges(data["myHealthRecord"]["annotations"])),
            len(edges(data["myHealthRecord"]["history"])),
            sum(len(revision["changes"]) for revision in edges(data["myHealthRecord"]["history"])),
        ],
        queries=5,
    ),
    "sessions": Case(
        covers=("Query.mySessions",),
        query="{ mySessions(first: 100) { edges { node { createdAt lastUsedAt userAgent ip expiresAt current } } } }",
        caller=lambda: factories.make_patient().user,
        grow=grow_sessions,
        lengths=lambda data: [len(edges(data["mySessions"]))],
        queries=2,
    ),
    "access log": Case(
        covers=("Query.myAccessLog", "AccessLogEntry.fields"),
        query="""{ myAccessLog(first: 100) { totalCount edges { node {
            createdAt action outcome fields actor { fullName role } } } } }""",
        caller=lambda: factories.make_patient().user,
        grow=grow_access_log,
        lengths=lambda data: [len(edges(data["myAccessLog"])), fields_listed(edges(data["myAccessLog"]))],
        queries=2,
    ),
    "audit trail": Case(
        covers=("Query.auditEvents", "AuditEvent.fields"),
        query="""{ auditEvents(first: 100) { totalCount edges { node {
            sequence action outcome fields objectType actor { username fullName } patient { fullName } } } } }""",
        caller=auditor_caller,
        grow=grow_trail,
        lengths=lambda data: [len(edges(data["auditEvents"])), fields_listed(edges(data["auditEvents"]))],
        queries=5,  # 4 + the one append auditing the auditor's read of the patient's demographics
    ),
    "emergency accesses": Case(
        covers=("Query.emergencyAccesses",),
        query="""{ emergencyAccesses(first: 100) { totalCount edges { node {
            active reason expiresAt verdict doctor { fullName } patient { fullName }
            reviewer { fullName role } endedBy { fullName role } } } } }""",
        caller=reviewer_caller,
        grow=grow_emergency_accesses,
        lengths=lambda data: [len(edges(data["emergencyAccesses"]))],
        queries=5,  # user, its permissions (user + group), the page, the append auditing the demographics read
    ),
}


# Lists whose length is fixed and that are built in memory, not read row by row: nothing can grow.
# Their mutation's query count is pinned where it is tested.
FIXED_LENGTH = {
    "ConfirmTotpEnrollmentPayload.recoveryCodes": "ten new codes; tests/auth/test_mfa_enrollment.py pins the queries",
}


def test_every_list_field_is_covered():
    # given every list and connection field the schema has
    fields = list_fields()
    # then each is measured by a case below, and no case names a field that is gone
    covered = {name for case in CASES.values() for name in case.covers} | set(FIXED_LENGTH)
    assert sorted(fields - covered) == []
    assert sorted(covered - fields) == []


def test_the_walk_finds_lists_it_could_miss():
    # a walk that found nothing could not fail: it sees nested lists and plain lists too
    expected = {"Query.patients", "HealthRecord.annotations", "Patient.doctors", "HealthRecordRevision.changes"}
    assert expected <= list_fields()


@pytest.mark.parametrize("name", CASES)
def test_list_queries_are_constant(db, gql, django_assert_num_queries, name):
    case = CASES[name]
    # given a caller, and data for their lists at a small size
    caller = case.caller()
    case.grow(caller, SMALL)
    token = access_token(caller)
    gql.execute(case.query, token=token)  # warm process caches (content types, permissions)
    lengths = []
    for grow_by in (0, BIG):
        # when the data grows (second round) and the query runs again
        if grow_by:
            case.grow(caller, grow_by)
        with django_assert_num_queries(case.queries):
            result = gql.execute(case.query, token=token)
        # then it answered, from the same number of queries
        assert result.errors == []
        lengths.append(case.lengths(result.data))
    # and every list it measures really grew between the two runs
    small, big = lengths
    assert all(before < after for before, after in zip(small, big, strict=True)), lengths
