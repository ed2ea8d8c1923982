"""Read auditing: one audit event per request per patient whose PHI the response carries.

Hooks sit where HealthRecord and Annotation objects are handed out (Patient.healthRecord, node,
myHealthRecord, the records mutations), and where Patient objects are handed out to staff
(demographics: the patients list, node, Assignment.patient, User.patient, AuditEvent.patient, and
a patient's User by node or as AuditEvent.actor),
not on leaf fields: the hot types stay free of per-field resolve hooks. Which fields were read
is taken from the GraphQL selection (fragments and @skip/@include applied), once per (type,
selection) and request; which of them are PHI the domain says (records.phi, users.phi, read
through schema/audit/phi.py). Refused lookups are audited by the domain's access functions
(records.selectors.record_get_for, …) into the request's batch (audit.services), a hidden object
and a missing one alike. Everything collected is appended at the end of execution by
ReadAuditExtension in ONE statement; if that fails, the response carries no data, only an
INTERNAL error. schema/audit/paths.py and its test make sure every field leading to PHI is hooked.
"""

import contextvars
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from graphql import ExecutionResult, GraphQLError, GraphQLObjectType, get_named_type
from strawberry.extensions import FieldExtension, SchemaExtension

from audit.models import Action
from audit.services import AuditDraft, audit_events_append, audit_refusals_batch
from care.emergency import HOLDS_EMERGENCY_ACCESS
from records.models import Annotation, HealthRecord
from records.selectors import (
    annotation_refusal_note,
    record_ids_read_under_emergency,
    record_patient_ids,
    record_refusal_note,
)
from schema.audit.phi import (
    demographic_field_names,
    not_phi_field_names,
    record_content_field_names,
)
from schema.internals import resolve_info
from schema.selection import collect_sub_fields
from users.models import Patient, Role, User
from users.selectors import is_staff_member, patient_refusal_note

logger = logging.getLogger(__name__)

RECORD_TYPE = "HealthRecord"
ANNOTATION_TYPE = "Annotation"
PATIENT_TYPE = "Patient"
USER_TYPE = "User"


@dataclass
class _RecordRead:
    patient_id: Any
    fields: set[str] = field(default_factory=set)


class ReadAudit:
    """What one request read and was refused, until the extension writes it."""

    def __init__(self, *, reads_enabled: bool, user) -> None:
        self.reads_enabled = reads_enabled
        self.user = user
        self.reads: dict[str, _RecordRead] = {}  # by record id: one record per patient
        self.demographics: dict[str, set[str]] = {}  # by patient id: fields staff read
        self._selection_cache: dict[tuple, frozenset[str]] = {}
        self._staff: bool | None = None

    def audits_demographics(self) -> bool:
        """Staff reads of demographics are audited; the patient's own and their doctors' are not."""
        if self._staff is None:
            self._staff = self.reads_enabled and self.user is not None and is_staff_member(self.user)
        return self._staff

    def selected_demographics(self, info, *, type_name: str = PATIENT_TYPE, connection: bool = False) -> frozenset[str]:
        """The demographic fields selected on the Patient(s) (or User) `info`'s field returns."""
        raw = resolve_info(info)
        key = (type_name, connection, tuple(id(node) for node in raw.field_nodes))
        if key not in self._selection_cache:
            object_type = raw.schema.get_type(type_name)
            if connection:
                field_def = raw.parent_type.fields[raw.field_name]
                names = _connection_node_names(raw, field_def, raw.field_nodes)
            else:
                names = _selected_names(
                    collect_sub_fields(raw.schema, raw.fragments, raw.variable_values, object_type, raw.field_nodes)
                )
            self._selection_cache[key] = frozenset(names & demographic_field_names(object_type))
        return self._selection_cache[key]

    def add_demographics_read(self, *, patient_ids, fields: frozenset[str]) -> None:
        for patient_id in patient_ids:
            self.demographics.setdefault(str(patient_id), set()).update(fields)

    def selected_phi_fields(self, info, type_name: str) -> frozenset[str]:
        raw = resolve_info(info)
        key = (type_name, tuple(id(node) for node in raw.field_nodes))
        if key not in self._selection_cache:
            object_type = raw.schema.get_type(type_name)
            selected = collect_sub_fields(raw.schema, raw.fragments, raw.variable_values, object_type, raw.field_nodes)
            if type_name == RECORD_TYPE:
                names = _record_field_names(raw, object_type, selected)
            else:
                names = {f"annotations.{name}" for name in _selected_names(selected) - not_phi_field_names(object_type)}
            self._selection_cache[key] = frozenset(names)
        return self._selection_cache[key]

    def add_read(self, *, record_id, patient_id, fields: frozenset[str]) -> None:
        if not self.reads_enabled or not fields:
            return
        read = self.reads.setdefault(str(record_id), _RecordRead(patient_id=patient_id))
        read.patient_id = read.patient_id or patient_id
        read.fields |= fields

    def drafts(self) -> list[AuditDraft]:
        unknown = [record_id for record_id, read in self.reads.items() if read.patient_id is None]
        patients = {}
        if unknown:  # annotations handed out alone (node): one lookup for all of them
            patients = {str(pk): patient for pk, patient in record_patient_ids(record_ids=unknown).items()}
        # A doctor's reads under emergency access are marked: one query, only for a doctor who holds a
        # grant in force (known from the user's own query; asked when the user came without it).
        emergency = set()
        if (
            self.reads
            and self.user is not None
            and self.user.is_authenticated
            and self.user.role == Role.DOCTOR
            and getattr(self.user, HOLDS_EMERGENCY_ACCESS, True)
        ):
            emergency = record_ids_read_under_emergency(user=self.user, record_ids=self.reads)
        drafts = []
        for record_id, read in self.reads.items():
            reads_record = any(not name.startswith("annotations.") for name in read.fields)
            drafts.append(
                AuditDraft(
                    action=Action.RECORD_READ if reads_record else Action.ANNOTATION_READ,
                    patient_id=read.patient_id or patients.get(record_id),
                    object_type=HealthRecord._meta.label,
                    object_id=record_id,
                    fields=tuple(sorted(read.fields)),
                    emergency=record_id in emergency,
                )
            )
        drafts += [
            AuditDraft(
                action=Action.DEMOGRAPHICS_READ,
                patient_id=patient_id,
                object_type=Patient._meta.label,
                object_id=patient_id,
                fields=tuple(sorted(fields)),
            )
            for patient_id, fields in self.demographics.items()
        ]
        return drafts


def _selected_names(selected: dict) -> set[str]:
    return {nodes[0].name.value for nodes in selected.values()}


def _record_field_names(raw, record_type: GraphQLObjectType, selected: dict) -> set[str]:
    not_phi, content = not_phi_field_names(record_type), record_content_field_names(record_type)
    names = set()
    for nodes in selected.values():
        name = nodes[0].name.value
        if name in not_phi:
            continue
        if name in content:
            names |= {f"{name}.{sub}" for sub in _connection_node_names(raw, record_type.fields[name], nodes)}
        else:
            names.add(name)
    return names


def _connection_node_names(raw, connection_field, nodes) -> set[str]:
    """The fields selected under edges { node { … } } (and totalCount) of a connection."""

    def sub(parent_type, field_nodes):
        return collect_sub_fields(raw.schema, raw.fragments, raw.variable_values, parent_type, field_nodes)

    connection_type = get_named_type(connection_field.type)
    names = set()
    for connection_nodes in sub(connection_type, nodes).values():
        name = connection_nodes[0].name.value
        if name == "totalCount":
            names.add(name)
        elif name == "edges":
            edge_type = get_named_type(connection_type.fields["edges"].type)
            for edge_nodes in sub(edge_type, connection_nodes).values():
                if edge_nodes[0].name.value == "node":
                    node_type = get_named_type(edge_type.fields["node"].type)
                    names |= _selected_names(sub(node_type, edge_nodes)) - not_phi_field_names(node_type)
    return names


_current: contextvars.ContextVar[ReadAudit | None] = contextvars.ContextVar("read_audit", default=None)


def _read_audit() -> ReadAudit:
    audit = _current.get()
    if audit is None:
        # Fail closed: PHI handed out outside an audited execution would go unrecorded.
        raise RuntimeError("PHI read outside an audited GraphQL execution.")
    return audit


def audit_record_read(info, record: HealthRecord | None, *, patient_id=None) -> HealthRecord | None:
    """Note that `record` is returned to the caller; returns it. `patient_id` saves a lookup."""
    if record is not None:
        audit = _read_audit()
        if patient_id is None and "patient_id" in record.__dict__:
            patient_id = record.patient_id
        audit.add_read(record_id=record.pk, patient_id=patient_id, fields=audit.selected_phi_fields(info, RECORD_TYPE))
    return record


def audit_annotation_read(info, annotation: Annotation | None) -> Annotation | None:
    """Note that `annotation` is returned to the caller; returns it."""
    if annotation is not None:
        audit = _read_audit()
        record = annotation.record if Annotation.record.is_cached(annotation) else None
        audit.add_read(
            record_id=annotation.record_id,
            patient_id=record.patient_id if record is not None and "patient_id" in record.__dict__ else None,
            fields=audit.selected_phi_fields(info, ANNOTATION_TYPE),
        )
    return annotation


def selected_phi_fields(info, type_name: str) -> frozenset[str]:
    """The PHI fields selected on what `info`'s field returns (RECORD_TYPE or ANNOTATION_TYPE).

    For the trail of a refused attempt: the domain's access functions take them as `fields`.
    """
    return _read_audit().selected_phi_fields(info, type_name)


def audit_demographics_read(info, patients, *, connection: bool = False):
    """Note that `patients` (a Patient, None, or a list) go to the caller; returns `patients`.

    Audited for staff only, and only when the selection holds a demographic field.
    """
    audit = _read_audit()
    if patients is None or not audit.audits_demographics():
        return patients
    fields = audit.selected_demographics(info, connection=connection)
    if fields:
        ids = [patient.pk for patient in patients] if isinstance(patients, list) else [patients.pk]
        audit.add_demographics_read(patient_ids=ids, fields=fields)
    return patients


def audit_user_read(info, user):
    """Note that `user` goes to the caller; returns it. A patient's name read by staff is audited."""
    audit = _read_audit()
    if user is None or not audit.audits_demographics():
        return user
    try:
        patient = user.patient  # loaded with the user where hot (AuditEvent.actor's hints)
    except ObjectDoesNotExist:
        return user  # staff and doctors: their names are not PHI
    fields = audit.selected_demographics(info, type_name=USER_TYPE)
    if fields:
        audit.add_demographics_read(patient_ids=[patient.pk], fields=fields)
    return user


class DemographicsReadExtension(FieldExtension):
    """On a connection of patients, as its OUTERMOST extension: audits the page handed out."""

    def resolve(self, next_, source, info, **kwargs):
        connection = next_(source, info, **kwargs)
        audit_demographics_read(info, [edge.node for edge in connection.edges], connection=True)
        return connection


class ReadAuditExtension(SchemaExtension):
    """Collects a request's PHI reads and refusals; appends them in one statement at the end."""

    def on_execute(self):
        request = getattr(self.execution_context.context, "request", None)
        audit = ReadAudit(reads_enabled=getattr(settings, "AUDIT_READS", True), user=getattr(request, "user", None))
        token = _current.set(audit)
        try:
            with audit_refusals_batch() as refusals:  # the domain's access functions note them here
                yield
        finally:
            _current.reset(token)
        drafts = audit.drafts() + refusals
        if not drafts:
            return
        try:
            audit_events_append(actor=getattr(request, "user", None), drafts=drafts)
        except Exception as error:  # noqa: BLE001 - whatever failed, no unaudited PHI leaves
            logger.error("Audit write failed: the response's data is withheld", exc_info=error)
            self.execution_context.result = ExecutionResult(
                data=None, errors=[GraphQLError("Internal server error.", original_error=error)]
            )


def audit_node_read(info, instance):
    """`node` hands out any type: audit it when it is PHI. Returns `instance`."""
    if isinstance(instance, HealthRecord):
        return audit_record_read(info, instance)
    if isinstance(instance, Annotation):
        return audit_annotation_read(info, instance)
    if isinstance(instance, Patient):
        return audit_demographics_read(info, instance)
    if isinstance(instance, User):
        return audit_user_read(info, instance)
    return instance


def audit_denied_node(info, *, type_name: str, pk) -> None:
    """`node` found nothing the caller may see by a PHI type: the domain audits the refusal.

    Hidden or missing alike (records.selectors, users.selectors); `node` resolves through the
    types' get_queryset, so it reaches the access functions' refusal half directly.
    """
    user = _read_audit().user
    if type_name == RECORD_TYPE:
        fields = selected_phi_fields(info, RECORD_TYPE)
        record_refusal_note(user=user, record_id=pk, action=Action.RECORD_READ, fields=fields)
    elif type_name == ANNOTATION_TYPE:
        fields = selected_phi_fields(info, ANNOTATION_TYPE)
        annotation_refusal_note(user=user, annotation_id=pk, action=Action.ANNOTATION_READ, fields=fields)
    elif type_name == PATIENT_TYPE:
        patient_refusal_note(user=user, patient_id=pk, fields=_read_audit().selected_demographics(info))
