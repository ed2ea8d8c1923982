"""addAnnotation and reading annotations: append-only, newest first, retractions shown and marked."""

import time_machine

from records.models import Annotation
from records.services import annotation_add, annotation_retract
from tests.conftest import global_id

ADD = """
mutation ($input: AddAnnotationInput!) {
  addAnnotation(input: $input) { id body createdAt retractedAt retractionReason author { fullName } }
}
"""
READ = """
query ($id: ID!) { node(id: $id) { ... on HealthRecord {
  annotations { totalCount edges { node { body retractedAt retractionReason author { fullName } } } } } } }
"""


def test_add_annotation_returns_and_stores_the_note(gql, world):
    # when
    variables = {"input": {"recordId": global_id("HealthRecord", world.alice.health_record.pk), "body": "BP 120/80."}}
    result = gql.execute(ADD, variables, user=world.grey.user)
    # then
    assert result.errors == []
    note = result.data["addAnnotation"]
    stored = Annotation.objects.get()
    assert note["id"] == global_id("Annotation", stored.pk)
    assert (note["body"], note["author"], note["retractedAt"], note["retractionReason"]) == (
        "BP 120/80.", {"fullName": world.grey.full_name}, None, None
    )
    expected = (world.alice.health_record.pk, world.grey.pk, "BP 120/80.")
    assert (stored.record_id, stored.author_id, stored.body) == expected


def test_a_body_of_exactly_ten_thousand_characters_is_accepted(gql, world):
    # when
    variables = {"input": {"recordId": global_id("HealthRecord", world.alice.health_record.pk), "body": "b" * 10_000}}
    result = gql.execute(ADD, variables, user=world.grey.user)
    # then
    assert result.errors == []
    assert len(Annotation.objects.get().body) == 10_000


def test_annotations_are_newest_first_and_a_retracted_one_stays_visible_and_marked(gql, world):
    # given three notes written a minute apart, the middle one retracted
    record = world.alice.health_record
    with time_machine.travel("2026-01-01 09:00Z", tick=False):
        annotation_add(actor=world.grey.user, record=record, body="First.")
    with time_machine.travel("2026-01-01 09:01Z", tick=False):
        middle = annotation_add(actor=world.grey.user, record=record, body="Second.")
    with time_machine.travel("2026-01-01 09:02Z", tick=False):
        annotation_add(actor=world.grey.user, record=record, body="Third.")
    with time_machine.travel("2026-01-01 10:00Z", tick=False):
        annotation_retract(actor=world.grey.user, annotation=middle, reason="Wrong patient.")
    # when the patient and the assigned doctor read the record
    for reader in (world.alice.user, world.grey.user):
        result = gql.execute(READ, {"id": global_id("HealthRecord", record.pk)}, user=reader)
        # then
        assert result.errors == []
        connection = result.data["node"]["annotations"]
        assert connection["totalCount"] == 3
        assert [
            (edge["node"]["body"], edge["node"]["retractedAt"], edge["node"]["retractionReason"])
            for edge in connection["edges"]
        ] == [
            ("Third.", None, None),
            ("Second.", "2026-01-01T10:00:00+00:00", "Wrong patient."),
            ("First.", None, None),
        ]


def test_annotations_are_paginated_forward(gql, world):
    # given five notes
    for n in range(5):
        with time_machine.travel(f"2026-01-01 09:0{n}Z", tick=False):
            annotation_add(actor=world.grey.user, record=world.alice.health_record, body=f"Note {n}.")
    query = """
    query ($id: ID!, $after: String) { node(id: $id) { ... on HealthRecord {
      annotations(first: 2, after: $after) { pageInfo { hasNextPage endCursor } edges { node { body } } } } } }
    """
    gid = global_id("HealthRecord", world.alice.health_record.pk)
    # when the doctor pages through them
    pages, after = [], None
    while True:
        page = gql.execute(query, {"id": gid, "after": after}, user=world.grey.user).data["node"]["annotations"]
        pages.append([edge["node"]["body"] for edge in page["edges"]])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # then
    assert pages == [["Note 4.", "Note 3."], ["Note 2.", "Note 1."], ["Note 0."]]
