"""Hand-written yardsticks: what a careful Django developer would write without GraphQL.

They authenticate exactly like /graphql/ (users.tokens), scope rows through the same selectors,
load with the best ORM calls (one query per table level, only the needed columns, the ten newest
annotations per record by a window function in SQL), audit the PHI they hand out the way the
API must (one RECORD_READ event per record, appended in one statement) and return byte-for-byte
the JSON /graphql/ returns for the same request. Only bench.urls serves them.
"""

import base64
import json
from collections import defaultdict

from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from audit.models import Action
from audit.services import AuditDraft, audit_events_append
from care.selectors import patients_visible_to
from records.models import HealthRecord
from records.selectors import annotations_visible_to, records_visible_to
from users.tokens import authenticate_request

ANNOTATIONS_PER_RECORD = 10
# What the worklist reads of each record, named as the read audit names it.
WORKLIST_FIELDS_READ = ("allergies", "annotations.author", "annotations.body", "annotations.createdAt",
                        "medications", "updatedAt")


def _json(data, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(data, separators=(",", ":")), status=status, content_type="application/json")


def _unauthenticated() -> HttpResponse:
    return _json({"data": None, "errors": [{"message": "Authentication required."}]}, status=401)


def _full_name(user) -> str:
    return f"{user.first_name} {user.last_name}".strip() or user.username


def _authenticated_user(request):
    authenticate_request(request)
    if request.token_error is not None or not request.user.is_authenticated:
        return None
    return request.user


@csrf_exempt  # Bearer tokens, as on /graphql/
def hello_view(request) -> HttpResponse:
    """`{ me { id } }` by hand: token authentication and the caller's global ID."""
    user = _authenticated_user(request)
    if user is None:
        return _unauthenticated()
    global_id = base64.b64encode(f"User:{user.pk}".encode()).decode()
    return _json({"data": {"me": {"id": global_id}}})


@csrf_exempt
def worklist_view(request) -> HttpResponse:
    """The doctor's worklist for POST {"first": N}: patients, records, ten newest annotations."""
    user = _authenticated_user(request)
    if user is None:
        return _unauthenticated()
    first = int(json.loads(request.body)["first"])
    patients = list(
        patients_visible_to(user=user)
        .select_related("user")
        .only("id", "user__username", "user__first_name", "user__last_name")[:first]
    )
    records = {
        record.patient_id: record
        for record in records_visible_to(user=user)
        .filter(patient_id__in=[patient.pk for patient in patients])
        .only("id", "patient_id", "allergies", "medications", "updated_at")
    }
    notes = defaultdict(list)
    newest_first = [F("created_at").desc(), F("id").desc()]
    annotations = (
        annotations_visible_to(user=user)
        .filter(record_id__in=[record.pk for record in records.values()])
        .annotate(position=Window(RowNumber(), partition_by=[F("record_id")], order_by=newest_first))
        .filter(position__lte=ANNOTATIONS_PER_RECORD)
        .select_related("author__user")
        .only("id", "record_id", "body", "created_at", "author__id", "author__user__username",
              "author__user__first_name", "author__user__last_name")
        .order_by("record_id", "position")
    )
    for annotation in annotations:
        notes[annotation.record_id].append(
            {"node": {"body": annotation.body, "createdAt": annotation.created_at.isoformat(),
                      "author": {"fullName": _full_name(annotation.author.user)}}}
        )
    edges = []
    for patient in patients:
        record = records.get(patient.pk)
        edges.append({"node": {
            "fullName": _full_name(patient.user),
            "healthRecord": None if record is None else {
                "allergies": record.allergies,
                "medications": record.medications,
                "updatedAt": record.updated_at.isoformat(),
                "annotations": {"edges": notes.get(record.pk, [])},
            },
        }})
    audit_events_append(actor=user, drafts=[
        AuditDraft(action=Action.RECORD_READ, patient_id=patient_id, object_type=HealthRecord._meta.label,
                   object_id=str(record.pk), fields=WORKLIST_FIELDS_READ)
        for patient_id, record in records.items()
    ])
    return _json({"data": {"patients": {"edges": edges}}})
