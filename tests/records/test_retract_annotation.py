"""retractAnnotation: the author marks a note entered-in-error; it is never deleted or edited."""

from records.models import Annotation
from records.services import annotation_add
from tests.conftest import global_id

RETRACT = """
mutation ($input: RetractAnnotationInput!) {
  retractAnnotation(input: $input) { id body retractedAt retractionReason author { fullName } }
}
"""


def test_the_author_retracts_a_note_and_it_stays_with_its_body(gql, world):
    # given
    note = annotation_add(actor=world.grey.user, record=world.alice.health_record, body="Allergic to latex.")
    # when
    variables = {"input": {"id": global_id("Annotation", note.pk), "reason": "Entered on the wrong chart."}}
    result = gql.execute(RETRACT, variables, user=world.grey.user)
    # then
    assert result.errors == []
    data = result.data["retractAnnotation"]
    assert data["id"] == global_id("Annotation", note.pk)
    assert (data["body"], data["retractionReason"]) == ("Allergic to latex.", "Entered on the wrong chart.")
    assert data["retractedAt"] is not None
    stored = Annotation.objects.get(pk=note.pk)
    assert (stored.body, stored.retraction_reason, stored.is_retracted) == (
        "Allergic to latex.", "Entered on the wrong chart.", True
    )
    assert Annotation.objects.count() == 1
