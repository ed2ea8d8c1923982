"""Every path to PHI goes through an audited access path (issue 13; STYLE.md rule 8).

The walk covers the whole schema from Query and Mutation; see schema/audit/paths.py for the rule.
"""

import strawberry
import strawberry_django
from strawberry.types import Info

from records.models import HealthRecord
from records.selectors import record_get_for
from schema import schema
from schema.audit.paths import phi_paths, unaudited_phi_paths
from schema.audit.reads import audit_record_read
from schema.internals import graphql_schema
from schema.records.types import AnnotationType, HealthRecordType
from users.models import Doctor

# Every field that hands out a HealthRecord, an Annotation, a revision, a Patient or a User (a
# patient's name), and what audits it. A new one must be audited before it is added here.
EXPECTED = {
    "Query.me": "account never a patient's data",
    "Query.node": "calls audit_node_read",
    "Query.myHealthRecord": "calls audit_record_read",
    "Query.patients": "extension DemographicsReadExtension",
    "Mutation.updateHealthRecord": "calls audit_record_read",
    "Mutation.addAnnotation": "calls audit_annotation_read",
    "Mutation.retractAnnotation": "calls audit_annotation_read",
    "User.patient": "calls audit_demographics_read",
    "Patient.healthRecord": "calls audit_record_read",
    "HealthRecord.patient": "not PHI of HealthRecord (records.phi.NOT_PHI)",
    "HealthRecord.annotations": "content of HealthRecord (records.phi.RECORD_CONTENT)",
    "HealthRecord.history": "content of HealthRecord (records.phi.RECORD_CONTENT)",
    "Assignment.patient": "calls audit_demographics_read",
    "EmergencyAccess.patient": "calls audit_demographics_read",
    "Assignment.assignedBy": "account never a patient's data",
    "AuditEvent.actor": "calls audit_user_read",
    "AuditEvent.patient": "calls audit_demographics_read",
    "TokenAuthPayload.user": "account never a patient's data",
    "RegisterAccountPayload.user": "account never a patient's data",
}


def test_every_path_to_phi_in_the_schema_is_audited():
    # given every field of the schema that leads to PHI
    paths = list(phi_paths(graphql_schema(schema)))
    # then each goes through an audited access path
    assert unaudited_phi_paths(graphql_schema(schema)) == []
    # and the walk saw all of them (no vacuous pass): one path per entry, each covered as expected
    assert len(paths) == len(EXPECTED)
    assert {path.name: path.covered_by for path in paths} == EXPECTED


def test_the_walk_reaches_every_phi_type_through_node_and_the_connections():
    # given the PHI types reached by the walk
    reached = {target for path in phi_paths(graphql_schema(schema)) for target in path.targets}
    # then records, annotations, revisions, patients and users are all among them
    assert reached == {"HealthRecord", "Annotation", "HealthRecordRevision", "Patient", "User"}


# A throwaway schema: a doctor type with the doctor's `annotations` (filtered in SQL by
# AnnotationType.get_queryset, but unaudited), next to an audited path and a path that only
# audits refusals. Named DoctorProfile: Annotation.author already brings the real Doctor type.


@strawberry_django.type(Doctor, name="DoctorProfile")
class DoctorWithAnnotations:
    annotations: list[AnnotationType] = strawberry_django.field()


@strawberry.type
class ThrowawayQuery:
    @strawberry.field
    def doctor(self) -> DoctorWithAnnotations:
        return Doctor.objects.first()

    @strawberry.field
    def audited_record(self, info: Info) -> HealthRecordType | None:
        return audit_record_read(info, HealthRecord.objects.first())

    @strawberry.field
    def refusals_only(self, info: Info, record_id: strawberry.ID) -> HealthRecordType:
        # the access function audits a refusal, but the read handed out goes unrecorded
        return record_get_for(user=info.context.request.user, record_id=record_id)


def test_an_unaudited_path_to_annotations_is_flagged():
    # given a schema where Doctor.annotations hands out annotations without an audit hook
    throwaway = strawberry.Schema(query=ThrowawayQuery)
    # when the checker walks it
    unaudited = unaudited_phi_paths(graphql_schema(throwaway))
    # then it names that field, and the path that only audits refusals, but not the audited one
    assert unaudited == ["DoctorProfile.annotations", "ThrowawayQuery.refusalsOnly"]
    assert "ThrowawayQuery.auditedRecord" in {path.name for path in phi_paths(graphql_schema(throwaway))}
