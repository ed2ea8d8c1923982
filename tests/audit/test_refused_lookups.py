"""A hidden id and a missing one cost the same: same queries, same audit event (but for its patient).

DESIGN.md section 2: "indistinguishable" covers cost too. Refused lookups of either kind are
collected during the request and written in its one audit append. Counted from the queries the
request runs (CaptureQueriesContext), never from timing.
"""

import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import Action, AuditEvent, Outcome
from records.services import annotation_add
from tests.conftest import global_id

MISSING = "00000000-0000-4000-8000-000000000000"

NODE_RECORD = "query ($id: ID!) { node(id: $id) { ... on HealthRecord { allergies } } }"
NODE_ANNOTATION = "query ($id: ID!) { node(id: $id) { ... on Annotation { body } } }"
NODE_PATIENT = "query ($id: ID!) { node(id: $id) { ... on Patient { fullName medicalRecordNumber } } }"
ADD = "mutation ($input: AddAnnotationInput!) { addAnnotation(input: $input) { body } }"
RETRACT = "mutation ($input: RetractAnnotationInput!) { retractAnnotation(input: $input) { body } }"


def cases(world, note):
    """name: (caller, query, variables for a hidden id, for a missing id, the audited action and object)."""
    return {
        "node HealthRecord": (
            world.house.user,
            NODE_RECORD,
            {"id": global_id("HealthRecord", world.alice.health_record.pk)},
            {"id": global_id("HealthRecord", MISSING)},
            (Action.RECORD_READ, "records.HealthRecord", ["allergies"]),
        ),
        "node Annotation": (
            world.former.user,
            NODE_ANNOTATION,
            {"id": global_id("Annotation", note.pk)},
            {"id": global_id("Annotation", MISSING)},
            (Action.ANNOTATION_READ, None, ["annotations.body"]),
        ),
        "node Patient": (
            world.former.user,
            NODE_PATIENT,
            {"id": global_id("Patient", world.alice.pk)},
            {"id": global_id("Patient", MISSING)},
            (Action.DEMOGRAPHICS_READ, "users.Patient", ["fullName", "medicalRecordNumber"]),
        ),
        "addAnnotation": (
            world.house.user,
            ADD,
            {"input": {"recordId": global_id("HealthRecord", world.alice.health_record.pk), "body": "x"}},
            {"input": {"recordId": global_id("HealthRecord", MISSING), "body": "x"}},
            (Action.ANNOTATION_ADD, "records.HealthRecord", ["annotations.body"]),
        ),
        "retractAnnotation": (
            world.former.user,
            RETRACT,
            {"input": {"id": global_id("Annotation", note.pk), "reason": "x"}},
            {"input": {"id": global_id("Annotation", MISSING), "reason": "x"}},
            (Action.ANNOTATION_RETRACT, None, ["annotations.body"]),
        ),
    }


def shape(sql: str) -> str:
    """A query without its literal values: ids and times differ between two requests, nothing else may."""
    sql = re.sub(r"'[^']*'", "?", sql)
    sql = re.sub(r"\?::\w+", "?", sql)  # PostgreSQL casts a literal, not NULL
    return re.sub(r"\b(\d+(\.\d+)?|NULL|None)\b", "?", sql)


@pytest.fixture
def note(world):
    return annotation_add(actor=world.grey.user, record=world.alice.health_record, body="Penicillin rash.")


@pytest.mark.parametrize(
    "case", ["node HealthRecord", "node Annotation", "node Patient", "addAnnotation", "retractAnnotation"]
)
def test_a_hidden_id_and_a_missing_one_take_the_same_queries_and_are_audited_alike(gql, world, note, case):
    # given an object the caller may not see, and an id that names nothing
    user, query, hidden, missing, (action, object_type, fields) = cases(world, note)[case]
    token = gql.sign_in(user)
    gql.execute(query, hidden, token=token)  # warm process caches, so both runs start alike
    before = AuditEvent.objects.count()
    # when the caller asks for each
    with CaptureQueriesContext(connection) as hidden_queries:
        hidden_result = gql.execute(query, hidden, token=token)
    with CaptureQueriesContext(connection) as missing_queries:
        missing_result = gql.execute(query, missing, token=token)
    # then both answer NOT_FOUND, after the same queries, statement for statement
    assert hidden_result.codes == missing_result.codes == ["NOT_FOUND"]
    assert len(hidden_queries) == len(missing_queries)
    assert [shape(q["sql"]) for q in hidden_queries] == [shape(q["sql"]) for q in missing_queries]
    # and each wrote one DENIED event: of alice's data for the hidden id, of nobody's for the missing one
    hidden_event, missing_event = AuditEvent.objects.order_by("created_at")[before:]  # shards: no global sequence
    for event in (hidden_event, missing_event):
        assert (event.actor_id, event.action, event.outcome) == (user.pk, action, Outcome.DENIED)
        assert event.fields == fields
    assert hidden_event.patient_id == world.alice.pk
    assert missing_event.patient_id is None
    assert missing_event.object_id == MISSING
    assert hidden_event.object_type == (object_type or "records.HealthRecord")  # an annotation: its record's
    assert missing_event.object_type == (object_type or "records.Annotation")  # no record: the id asked for


def test_a_missing_id_is_never_in_anyones_access_log(gql, world):
    # given dr.house probes an id that names nothing
    gql.execute(NODE_RECORD, {"id": global_id("HealthRecord", str(uuid.uuid4()))}, user=world.house.user)
    # when alice reads her access log
    result = gql.execute("{ myAccessLog { edges { node { action outcome } } } }", user=world.alice.user)
    # then the probe is on the trail (DENIED, no patient) but not in her log
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED, patient=None, actor=world.house.user).count() == 1
    assert {"action": "RECORD_READ", "outcome": "DENIED"} not in [
        edge["node"] for edge in result.data["myAccessLog"]["edges"]
    ]
