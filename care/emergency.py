"""Emergency access ("break the glass", DESIGN.md section 9, HIPAA 164.312(a)(2)(ii)).

A doctor who must treat a patient they are not assigned to re-proves who they are (password, and
TOTP when enrolled: users.step_up) and gives a reason; they then read and annotate that patient's
record for EMERGENCY_ACCESS_MINUTES through the same guardian rows an assignment grants. The end is
part of the access check (records.selectors excludes the rows of a lapsed grant, by the conditions
below, registered in care/apps.py), so access ends at the minute whether or not anything runs.

Invariants: at most one open (not ended) grant per doctor and patient (a partial unique index), and
none while the pair has an active assignment (a request is refused; an assignment closes the grant).
Every write takes the patient's record row lock first, as assignments and annotations do, so grants,
revocations, assignments and annotations of one patient are serialised in every process.
"""

import datetime
import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from audit.models import Action, Severity
from audit.services import audit_event_record
from care.models import (
    EMERGENCY_REASON_MIN_LENGTH,
    Assignment,
    EmergencyAccess,
    EmergencyVerdict,
)
from care.notifications import notifications_enqueue_emergency_access
from care.permissions import EmergencyAccessPermission
from care.selectors import active_assignments, emergency_accesses_live
from records.models import HealthRecord
from records.permissions import RecordPermission
from records.selectors import TimedGrants
from records.services import record_access_grant, record_access_revoke
from users.errors import Conflict
from users.models import Doctor, Patient, Role, User
from users.selectors import is_staff_member
from users.step_up import step_up_verify

EMERGENCY_RECORD_PERMISSIONS = (RecordPermission.VIEW, RecordPermission.ANNOTATE)
ASSIGNED_MESSAGE = "You are assigned to this patient: emergency access is not needed."
ENDED_MESSAGE = "This emergency access has already ended."
REVIEWED_MESSAGE = "This emergency access has already been reviewed."


# --- the access check's conditions (over a user's guardian rows; records.selectors) -----------


def _grants_of(user: User) -> QuerySet[EmergencyAccess]:
    return EmergencyAccess.objects.filter(
        doctor__user_id=user.pk, patient__health_record=OuterRef("content_object_id"), ended_at__isnull=True
    )


def _rows_lapsed(user: User) -> Q:
    # The row's grant is still open but its time is up. Closed grants no longer hold rows.
    return Q(Exists(_grants_of(user).filter(expires_at__lte=timezone.now())))


def _rows_emergency(user: User) -> Q:
    return Q(Exists(_grants_of(user).filter(expires_at__gt=timezone.now())))


TIMED_GRANTS = TimedGrants(lapsed=_rows_lapsed, emergency=_rows_emergency)

# The attribute of request.user (users.tokens.USER_REQUEST_FACTS) saying the user holds a grant in force.
HOLDS_EMERGENCY_ACCESS = "holds_emergency_access"


def holds_emergency_access() -> Exists:
    return Exists(emergency_accesses_live().filter(doctor__user_id=OuterRef("pk")))


# --- reads ---------------------------------------------------------------------------------


def _may_oversee(user: User, permission: EmergencyAccessPermission) -> bool:
    return is_staff_member(user) and user.has_perm(permission.value)


def emergency_accesses_visible_to(*, user: User, reviewed: bool | None = None) -> QuerySet[EmergencyAccess]:
    """All grants for staff with care.view_emergencyaccess, newest first; a doctor's own; else none."""
    if not user.is_authenticated or not user.is_active:
        return EmergencyAccess.objects.none()
    if _may_oversee(user, EmergencyAccessPermission.VIEW) or _may_oversee(user, EmergencyAccessPermission.CHANGE):
        grants = EmergencyAccess.objects.all()
    elif user.role == Role.DOCTOR:
        grants = EmergencyAccess.objects.filter(doctor__user_id=user.pk)
    else:
        return EmergencyAccess.objects.none()
    if reviewed is not None:
        grants = grants.filter(reviewed_at__isnull=not reviewed)
    return grants


def emergency_access_get_for(*, user: User, grant_id: uuid.UUID | str) -> EmergencyAccess:
    return emergency_accesses_visible_to(user=user).get(pk=grant_id)


def emergency_access_patient_visible_to(*, user: User, grant: EmergencyAccess) -> bool:
    """Staff who oversee grants see whom each was about; the doctor, while it is in force."""
    if grant.doctor.user_id == user.pk:
        return emergency_access_active(grant)
    return _may_oversee(user, EmergencyAccessPermission.VIEW) or _may_oversee(user, EmergencyAccessPermission.CHANGE)


def emergency_access_active(grant: EmergencyAccess, *, now: datetime.datetime | None = None) -> bool:
    return grant.ended_at is None and grant.expires_at > (now or timezone.now())


# --- writes --------------------------------------------------------------------------------


def emergency_access_request(
    *, actor: User, patient_id: uuid.UUID | str, reason: str, password: str, code: str | None, request
) -> EmergencyAccess:
    """Break the glass: the doctor `actor` reads and annotates the patient's record for a while.

    Refused for anyone but a doctor (PermissionDenied), for a reason under 20 characters
    (ValidationError), on a wrong password or code (users.step_up: counted like a failed login),
    for an unknown patient (Patient.DoesNotExist, asked only after the step-up so nobody learns
    which patients exist without it), and for an assigned doctor (Conflict). A grant in force is
    answered as it is.
    """
    doctor = Doctor.objects.filter(user_id=actor.pk).first() if actor.is_authenticated else None
    if doctor is None:
        raise PermissionDenied("Only doctors can request emergency access.")
    reason = (reason or "").strip()
    if len(reason) < EMERGENCY_REASON_MIN_LENGTH:
        raise ValidationError({"reason": [f"Say why, in at least {EMERGENCY_REASON_MIN_LENGTH} characters."]})
    step_up_verify(user=actor, password=password, code=code, request=request)
    return _emergency_access_grant(actor=actor, doctor=doctor, patient_id=patient_id, reason=reason)


@transaction.atomic
def _emergency_access_grant(*, actor: User, doctor: Doctor, patient_id, reason: str) -> EmergencyAccess:
    patient = Patient.objects.select_related("user").get(pk=patient_id)
    # The patient's record row lock orders this against assignments, revocations and other requests.
    record = HealthRecord.objects.select_for_update(of=("self",)).get(patient=patient)
    if active_assignments().filter(doctor=doctor, patient=patient).exists():
        raise Conflict(ASSIGNED_MESSAGE)
    now = timezone.now()
    open_grant = EmergencyAccess.objects.filter(doctor=doctor, patient=patient, ended_at__isnull=True).first()
    if open_grant is not None:
        if emergency_access_active(open_grant, now=now):
            return open_grant  # a second request while one is in force answers that one
        _close_lapsed(open_grant)
    grant = EmergencyAccess(
        doctor=doctor,
        patient=patient,
        reason=reason,
        expires_at=now + datetime.timedelta(minutes=settings.EMERGENCY_ACCESS_MINUTES),
    )
    grant.full_clean(exclude=["doctor", "patient"])
    try:
        # The partial unique index is the last word should two requests ever get here together.
        with transaction.atomic():
            grant.save()
    except IntegrityError:
        return emergency_accesses_live().get(doctor=doctor, patient=patient)
    record_access_grant(user=doctor.user, record=record, permissions=EMERGENCY_RECORD_PERMISSIONS)
    notifications_enqueue_emergency_access(grant=grant)
    audit_event_record(
        actor=actor,
        action=Action.EMERGENCY_ACCESS_GRANT,
        patient=patient,
        obj=grant,
        emergency=True,
        severity=Severity.HIGH,
    )
    return grant


def _close_lapsed(grant: EmergencyAccess) -> None:
    # Its rows stay for the grant or assignment being made now, in this transaction.
    grant.ended_at = grant.expires_at
    grant.save(update_fields=["ended_at"])


def emergency_accesses_close_for_assignment(*, actor: User, assignment: Assignment) -> None:
    """An assignment of the pair supersedes its open grant: the rows now stand for the assignment.

    One UPDATE: a grant in force ends now, by `actor`; a lapsed one is closed at its expiry.
    Call inside assignment_create's transaction, under the record lock.
    """
    now = timezone.now()
    in_force = Q(expires_at__gt=now)
    EmergencyAccess.objects.filter(
        doctor_id=assignment.doctor_id, patient_id=assignment.patient_id, ended_at__isnull=True
    ).update(
        ended_at=Case(When(in_force, then=Value(now)), default=F("expires_at")),
        ended_by=Case(When(in_force, then=Value(actor.pk)), default=None),
    )


def emergency_access_revoke_for(*, actor: User, grant_id: uuid.UUID | str) -> EmergencyAccess:
    """Load and end a grant: FORBIDDEN for staff without care.change_emergencyaccess and patients,
    NOT_FOUND for another doctor's grant or a missing one."""
    if actor.role == Role.PATIENT or (
        actor.role == Role.STAFF and not _may_oversee(actor, EmergencyAccessPermission.CHANGE)
    ):
        raise PermissionDenied("You are not allowed to end this emergency access.")
    grant = emergency_access_get_for(user=actor, grant_id=grant_id)
    return emergency_access_revoke(actor=actor, grant=grant)


@transaction.atomic
def emergency_access_revoke(*, actor: User, grant: EmergencyAccess) -> EmergencyAccess:
    """End a grant in force now: staff with care.change_emergencyaccess, or the doctor their own."""
    own = grant.doctor.user_id == actor.pk
    if not own and not _may_oversee(actor, EmergencyAccessPermission.CHANGE):
        raise PermissionDenied("You are not allowed to end this emergency access.")
    record = HealthRecord.objects.select_for_update(of=("self",)).get(patient_id=grant.patient_id)
    grant = EmergencyAccess.objects.select_for_update(of=("self",)).select_related("doctor__user").get(pk=grant.pk)
    if not emergency_access_active(grant):
        raise Conflict(ENDED_MESSAGE)
    grant.ended_at, grant.ended_by = timezone.now(), actor
    grant.save(update_fields=["ended_at", "ended_by"])
    record_access_revoke(user=grant.doctor.user, record=record, permissions=EMERGENCY_RECORD_PERMISSIONS)
    audit_event_record(
        actor=actor, action=Action.EMERGENCY_ACCESS_REVOKE, patient=grant.patient, obj=grant, emergency=True
    )
    return grant


@transaction.atomic
def emergency_access_review(*, actor: User, grant: EmergencyAccess, verdict: str, note: str) -> EmergencyAccess:
    """Close the review of a grant (staff with care.change_emergencyaccess); once per grant."""
    if not _may_oversee(actor, EmergencyAccessPermission.CHANGE):
        raise PermissionDenied("You are not allowed to review emergency access.")
    grant = EmergencyAccess.objects.select_for_update(of=("self",)).get(pk=grant.pk)
    if grant.reviewed_at is not None:
        raise Conflict(REVIEWED_MESSAGE)
    if verdict not in EmergencyVerdict.values:
        raise ValidationError({"verdict": ["Either JUSTIFIED or UNJUSTIFIED."]})
    grant.verdict, grant.review_note = verdict, (note or "").strip()
    grant.reviewed_at, grant.reviewed_by = timezone.now(), actor
    try:
        grant.full_clean(exclude=["doctor", "patient", "reason"])
    except ValidationError as error:
        raise ValidationError(
            {{"review_note": "note"}.get(name, name): messages for name, messages in error.message_dict.items()}
        ) from error
    grant.save(update_fields=["verdict", "review_note", "reviewed_at", "reviewed_by"])
    audit_event_record(actor=actor, action=Action.EMERGENCY_ACCESS_REVIEW, patient=grant.patient, obj=grant)
    return grant
