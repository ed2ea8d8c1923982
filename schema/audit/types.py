import strawberry
import strawberry_django
from strawberry import relay
from strawberry.types import Info

from audit.models import Action, AuditEvent, Outcome, Severity
from records.models import HealthRecordRevision
from schema.audit.reads import audit_demographics_read, audit_user_read
from schema.errors import camel_case
from schema.users.types import PatientType, RoleEnum, UserType
from users.models import Role, User

ANOTHER_PATIENT = "Another patient"

AuditActionEnum = strawberry.enum(Action, name="AuditAction", description="What an audit event records.")
AuditOutcomeEnum = strawberry.enum(Outcome, name="AuditOutcome", description="Whether the attempt was allowed.")
AuditSeverityEnum = strawberry.enum(Severity, name="AuditSeverity", description="How urgently to look at an event.")


@strawberry.type(name="AuditActor", description="Who did something, as the person whose data it was may see them.")
class AuditActorType:
    full_name: str = strawberry.field(description="Full name, or the username when no name is set.")
    role: RoleEnum = strawberry.field(description="Patient, doctor or staff.")


def actor_of(user: User | None) -> AuditActorType | None:
    if user is None:
        return None
    return AuditActorType(full_name=user.full_name, role=user.role)


def actor_hints(relation: str) -> dict:
    return {
        "select_related": [relation, f"{relation}__patient", f"{relation}__doctor"],
        "only": [
            f"{relation}__{name}" for name in ("first_name", "last_name", "username", "patient__id", "doctor__id")
        ],
    }


# Shared by the patient's access log and the auditors' trail: one reading of an event's columns.
def _event_action(root: AuditEvent) -> AuditActionEnum:
    return Action(root.action)


def _event_outcome(root: AuditEvent) -> AuditOutcomeEnum:
    return Outcome(root.outcome)


def _event_fields(root: AuditEvent) -> list[str]:
    return list(root.fields)


def _event_severity(root: AuditEvent) -> AuditSeverityEnum:
    return Severity(root.severity)


@strawberry_django.type(
    AuditEvent,
    name="AccessLogEntry",
    description="Someone read, changed or was refused the caller's health data (the patient's access log).",
)
class AccessLogEntryType(relay.Node):
    created_at: strawberry.auto = strawberry_django.field(description="When it happened.")

    @strawberry_django.field(
        description="Who did it; null when nobody was signed in. Other patients are not named.",
        **actor_hints("actor"),
    )
    def actor(self, root: AuditEvent, info: Info) -> AuditActorType | None:
        actor = root.actor
        if actor is not None and actor.pk != info.context.request.user.pk and actor.role == Role.PATIENT:
            # Another patient's identity (say, one who tried to open this record) is their PHI.
            return AuditActorType(full_name=ANOTHER_PATIENT, role=Role.PATIENT)
        return actor_of(actor)

    action: AuditActionEnum = strawberry_django.field(
        resolver=_event_action, description="What was done.", only=["action"]
    )
    outcome: AuditOutcomeEnum = strawberry_django.field(
        resolver=_event_outcome, description="ALLOWED, or DENIED for a refused attempt.", only=["outcome"]
    )
    fields_touched: list[str] = strawberry_django.field(
        resolver=_event_fields,
        name="fields",
        description='Which fields were read or changed, e.g. "allergies", "annotations.body".',
        only=["fields"],
    )
    emergency: bool = strawberry_django.field(
        description="Done under a doctor's emergency access (break the glass), not an assignment."
    )


def _event_patient(root: AuditEvent, info: Info):
    # Auditors are staff: the demographics they read through the trail are audited too.
    return audit_demographics_read(info, root.patient)


_event_patient.can_optimize = True


def _event_actor(root: AuditEvent, info: Info):
    # A patient who acted is named: the auditor's read of that name is audited too.
    return audit_user_read(info, root.actor)


_event_actor.can_optimize = True


@strawberry_django.type(AuditEvent, name="AuditEvent", description="One entry of the audit trail (auditors only).")
class AuditEventType(relay.Node):
    shard: int = strawberry_django.field(
        description="Which hash chain the event is in: one per shard of patients (0 for events about no patient)."
    )
    sequence: int = strawberry_django.field(
        description="Position in its shard's hash chain: 1, 2, 3, … without gaps within the shard."
    )
    hash: str = strawberry_django.field(description="SHA-256 over the previous hash, the sequence and this event.")
    prev_hash: str = strawberry_django.field(description="The previous event's hash in the same shard.")
    created_at: strawberry.auto = strawberry_django.field(description="When it happened.")
    actor: UserType | None = strawberry_django.field(
        resolver=_event_actor,
        field_name="actor",
        select_related=["actor__patient"],
        description="Who did it; null when nobody was signed in.",
    )
    patient: PatientType | None = strawberry_django.field(
        resolver=_event_patient, field_name="patient", description="Whose data it concerned, if anyone's."
    )
    object_type: str = strawberry_django.field(description='The model acted on, e.g. "records.HealthRecord".')
    object_id: str = strawberry_django.field(description="The primary key of the object acted on.")
    request_id: str = strawberry_django.field(description="The request it happened in (X-Request-ID).")
    user_agent: str = strawberry_django.field(description="The caller's User-Agent.")
    emergency: bool = strawberry_django.field(description="Done under a doctor's emergency access (break the glass).")
    severity: AuditSeverityEnum = strawberry_django.field(
        resolver=_event_severity, description="HIGH for what a reviewer must close.", only=["severity"]
    )

    action: AuditActionEnum = strawberry_django.field(
        resolver=_event_action, description="What was done.", only=["action"]
    )
    outcome: AuditOutcomeEnum = strawberry_django.field(
        resolver=_event_outcome, description="ALLOWED, or DENIED for a refused attempt.", only=["outcome"]
    )
    fields_touched: list[str] = strawberry_django.field(
        resolver=_event_fields, name="fields", description="Which fields were read or changed.", only=["fields"]
    )

    @strawberry_django.field(description="The caller's IP address, if known.", only=["ip"])
    def ip(self, root: AuditEvent) -> str | None:
        return root.ip


@strawberry.type(name="RecordChange", description="One field's change in a health record revision.")
class RecordChangeType:
    field: str = strawberry.field(description='The field, as HealthRecord names it (e.g. "bloodType").')
    old: str | None = strawberry.field(description="The value before; null when it was unset.")
    new: str | None = strawberry.field(description="The value after; null when it was cleared.")


def _as_text(value) -> str | None:
    return None if value is None else str(value)


@strawberry_django.type(
    HealthRecordRevision, name="HealthRecordRevision", description="One change of a health record: who, when, what."
)
class HealthRecordRevisionType(relay.Node):
    changed_at: strawberry.auto = strawberry_django.field(description="When the change was made.")

    @strawberry_django.field(description="Who made the change.", **actor_hints("changed_by"))
    def changed_by(self, root: HealthRecordRevision) -> AuditActorType:
        return actor_of(root.changed_by)

    @strawberry_django.field(description="Each changed field with its old and new value.", only=["changes"])
    def changes(self, root: HealthRecordRevision) -> list[RecordChangeType]:
        return [
            RecordChangeType(field=camel_case(name), old=_as_text(values.get("old")), new=_as_text(values.get("new")))
            for name, values in sorted(root.changes.items())
        ]

    @classmethod
    def get_queryset(cls, queryset, info: Info, **kwargs):
        # Newest first, like annotations; only reachable through a record the caller may read.
        return queryset.order_by("-changed_at", "-id")
