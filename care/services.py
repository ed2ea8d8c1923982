import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import Action
from audit.services import audit_event_record
from care.emergency import emergency_accesses_close_for_assignment
from care.models import Assignment
from care.notifications import notifications_enqueue_assignment_created, notifications_enqueue_assignment_ended
from care.permissions import CarePermission
from care.selectors import active_assignments
from records.models import HealthRecord
from records.permissions import RecordPermission
from records.services import record_access_grant, record_access_revoke
from users.errors import Conflict
from users.models import Doctor, Patient, User
from users.selectors import is_staff_member

logger = logging.getLogger(__name__)

DOCTOR_RECORD_PERMISSIONS = (RecordPermission.VIEW, RecordPermission.ANNOTATE)


def _require_staff_permission(actor: User, permission: CarePermission) -> None:
    # Staff flag and the model permission; a doctor or patient never runs assignments,
    # not even for themselves.
    if not is_staff_member(actor) or not actor.has_perm(permission.value):
        raise PermissionDenied("You are not allowed to manage assignments.")


@transaction.atomic
def assignment_create(*, actor: User, doctor: Doctor, patient: Patient) -> Assignment:
    """Assign `doctor` to `patient`: grants record access and queues the doctor's email."""
    _require_staff_permission(actor, CarePermission.ADD_ASSIGNMENT)
    if not doctor.user.is_active:  # deactivated (users.accounts): may not take on patients
        raise ValidationError({"doctor_id": ["This doctor's account is deactivated."]})
    if active_assignments().filter(doctor=doctor, patient=patient).exists():
        raise Conflict("This doctor is already assigned to this patient.")
    try:
        # The partial unique index decides races: the loser of a concurrent insert lands here.
        with transaction.atomic():
            assignment = Assignment.objects.create(doctor=doctor, patient=patient, assigned_by=actor)
    except IntegrityError as error:
        raise Conflict("This doctor is already assigned to this patient.") from error
    record = HealthRecord.objects.select_for_update().get(patient=patient)  # see annotation_add
    # An open emergency grant of the pair ends here: its rows now stand for the assignment.
    emergency_accesses_close_for_assignment(actor=actor, assignment=assignment)
    record_access_grant(user=doctor.user, record=record, permissions=DOCTOR_RECORD_PERMISSIONS)
    notifications_enqueue_assignment_created(assignment=assignment)
    audit_event_record(actor=actor, action=Action.ASSIGNMENT_CREATE, patient=patient, obj=assignment)
    return assignment


@transaction.atomic
def assignment_end(*, actor: User, assignment: Assignment) -> Assignment:
    """End an active assignment: the doctor loses record access in the same transaction."""
    _require_staff_permission(actor, CarePermission.CHANGE_ASSIGNMENT)
    assignment = (
        Assignment.objects.select_for_update()
        .select_related("doctor__user", "patient__user")
        .get(pk=assignment.pk)
    )
    if assignment.ended_at is not None:
        raise Conflict("This assignment has already ended.")
    assignment.ended_at = timezone.now()
    assignment.ended_by = actor
    assignment.save(update_fields=["ended_at", "ended_by"])
    record = HealthRecord.objects.select_for_update().get(patient=assignment.patient)  # see annotation_add
    record_access_revoke(user=assignment.doctor.user, record=record, permissions=DOCTOR_RECORD_PERMISSIONS)
    notifications_enqueue_assignment_ended(assignment=assignment)
    audit_event_record(
        actor=actor, action=Action.ASSIGNMENT_END, patient=assignment.patient, obj=assignment
    )
    return assignment
