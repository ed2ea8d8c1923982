"""The notification outbox: rows written with their cause, delivered by a separate worker.

Life of a row: it is written (PENDING, due now) in the transaction of the event that causes
it, so a rollback leaves neither row nor mail. The request never talks to SMTP: a relay that
hangs or refuses would otherwise hold the request (and its web worker) for EMAIL_TIMEOUT.
`manage.py send_notifications --loop` delivers the row; on PostgreSQL the same transaction
sends a NOTIFY on OUTBOX_CHANNEL (delivered by PostgreSQL only if the transaction commits), so
a listening worker wakes at once instead of at its next poll. The worker retries with capped
exponential backoff and marks the row FAILED after NOTIFICATION_MAX_ATTEMPTS.

Claiming: a sender owns a row once a single conditional UPDATE
    UPDATE ... SET claimed_by = <token>, claimed_until = now + lease, attempts = attempts + 1
    WHERE id IN (SELECT id ... due ... LIMIT 1 FOR UPDATE SKIP LOCKED) AND <still due>
has changed it. On PostgreSQL the SKIP LOCKED subquery lets concurrent workers pick
different rows without waiting on each other, and the repeated WHERE is re-checked against
the committed row if two ever meet. SQLite has no row locks (Django drops the clause) but
runs one writer at a time, so the same statement is atomic there. The mail is sent outside
any transaction (no lock held across network I/O), then the row is settled with an UPDATE
that only matches while the token still owns it.

Crash window: a worker that dies between claiming and settling leaves a claim that expires
after NOTIFICATION_LEASE_SECONDS and is then taken again. If it died *after* the SMTP server
accepted the mail, the mail goes out twice: delivery is at-least-once, and the stable
Message-ID (<notification-<uuid>@domain>) lets the receiving side recognise the repeat.
"""

import logging
import os
import random
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Count, F, Min, Q, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.template.loader import render_to_string
from django.utils import timezone

from care.models import Assignment, Notification, NotificationKind, NotificationStatus
from users.models import User
from users.selectors import is_staff_member

logger = logging.getLogger(__name__)

# PostgreSQL NOTIFY channel the workers LISTEN on; the payload is empty (a wake-up, not data).
OUTBOX_CHANNEL = "clinic_outbox"

# kind -> (template name without extension, subject). Subjects and templates get only the
# names below: never a record's contents, an annotation, or (in a doctor's mail) the patient.
_MAILS: dict[str, tuple[str, str]] = {
    NotificationKind.DOCTOR_ASSIGNED: ("care/email/doctor_assigned", "A patient has been assigned to you"),
    NotificationKind.PATIENT_DOCTOR_ASSIGNED: (
        "care/email/patient_doctor_assigned",
        "{doctor_name} can now read your health record",
    ),
    NotificationKind.DOCTOR_ASSIGNMENT_ENDED: (
        "care/email/doctor_assignment_ended",
        "One of your patient assignments has ended",
    ),
    NotificationKind.PATIENT_ASSIGNMENT_ENDED: (
        "care/email/patient_assignment_ended",
        "{doctor_name} can no longer read your health record",
    ),
    NotificationKind.PATIENT_EMERGENCY_ACCESS: (
        "care/email/patient_emergency_access",
        "{doctor_name} used emergency access to your health record",
    ),
    NotificationKind.STAFF_EMERGENCY_ACCESS: (
        "care/email/staff_emergency_access",
        "Emergency access to a health record awaits review",
    ),
    # The link's token is the only secret; nothing about anyone's care.
    NotificationKind.ACCOUNT_INVITATION: ("care/email/account_invitation", "Your Clinic API account"),
    NotificationKind.PASSWORD_RESET: ("care/email/password_reset", "Reset your Clinic API password"),
}


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery pass did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed

    def __add__(self, other: "DeliveryReport") -> "DeliveryReport":
        return DeliveryReport(self.sent + other.sent, self.retrying + other.retrying, self.failed + other.failed)


# --- writing rows (inside the cause's transaction) -------------------------------------------


def notifications_enqueue_assignment_created(*, assignment: Assignment) -> list[Notification]:
    """The doctor learns *that* a patient was assigned; the patient learns which doctor."""
    doctor, patient = assignment.doctor, assignment.patient
    return _notifications_enqueue(
        (NotificationKind.DOCTOR_ASSIGNED, doctor.user, {}),
        (NotificationKind.PATIENT_DOCTOR_ASSIGNED, patient.user, {"doctor_name": str(doctor)}),
    )


def notifications_enqueue_assignment_ended(*, assignment: Assignment) -> list[Notification]:
    """Both sides learn that the doctor's access ended; the doctor's mail names no patient."""
    doctor, patient = assignment.doctor, assignment.patient
    return _notifications_enqueue(
        (NotificationKind.DOCTOR_ASSIGNMENT_ENDED, doctor.user, {}),
        (NotificationKind.PATIENT_ASSIGNMENT_ENDED, patient.user, {"doctor_name": str(doctor)}),
    )


def notifications_enqueue_invitation(*, recipient: User, link: str) -> Notification:
    """The invited person's link to set a first password (care.accounts)."""
    hours = int(settings.INVITATION_LIFETIME.total_seconds() // 3600)
    return _notifications_enqueue(
        (NotificationKind.ACCOUNT_INVITATION, recipient, {"link": link, "lifetime_hours": str(hours)})
    )[0]


def notifications_enqueue_password_reset(*, recipient: User | None, link: str) -> Notification | None:
    """The reset link, for an account; for an address without one (None), the same work and no mail.

    No account oracle in the cost either: the mail is rendered all the same and, in place of the
    row's INSERT, one indexed statement runs (the same number of statements, the same wake-up).
    """
    minutes = int(settings.PASSWORD_RESET_LIFETIME.total_seconds() // 60)
    extra = {"link": link, "lifetime_minutes": str(minutes)}
    if recipient is not None:
        return _notifications_enqueue((NotificationKind.PASSWORD_RESET, recipient, extra))[0]
    template, _subject = _MAILS[NotificationKind.PASSWORD_RESET]
    render_to_string(f"{template}.txt", {"recipient_name": "", **extra})
    render_to_string(f"{template}.html", {"recipient_name": "", **extra})
    Notification.objects.filter(pk=uuid.uuid4()).exists()
    _workers_wake()
    return None


def notifications_enqueue_emergency_access(*, grant) -> list[Notification]:
    """The patient learns which doctor broke the glass; every active staff member who reviews
    emergency access (care.change_emergencyaccess) learns that one awaits review, not about whom."""
    doctor, patient = grant.doctor, grant.patient
    minutes = str(round((grant.expires_at - grant.created_at).total_seconds() / 60))
    holds = Q(user_permissions__codename="change_emergencyaccess", user_permissions__content_type__app_label="care")
    holds |= Q(
        groups__permissions__codename="change_emergencyaccess", groups__permissions__content_type__app_label="care"
    )
    reviewers = (
        User.objects.filter(is_active=True, is_staff=True, patient__isnull=True, doctor__isnull=True)
        .filter(holds | Q(is_superuser=True))
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )
    return _notifications_enqueue(
        (NotificationKind.PATIENT_EMERGENCY_ACCESS, patient.user, {"doctor_name": str(doctor), "minutes": minutes}),
        *((NotificationKind.STAFF_EMERGENCY_ACCESS, reviewer, {}) for reviewer in reviewers),
    )


def _notifications_enqueue(*mails: tuple[str, User, dict[str, str]]) -> list[Notification]:
    now = timezone.now()
    notifications = []
    for kind, recipient, extra in mails:
        template, subject = _MAILS[kind]
        context = {"recipient_name": recipient.full_name, **extra}
        notifications.append(
            Notification.objects.create(
                kind=kind,
                recipient=recipient,
                to_email=recipient.email,
                subject=_one_line(subject.format(**context), limit=Notification._meta.get_field("subject").max_length),
                body=render_to_string(f"{template}.txt", context),
                html_body=render_to_string(f"{template}.html", context),
                next_attempt_at=now,
            )
        )
    _workers_wake()
    return notifications


def _workers_wake() -> None:
    """Wake listening workers when this transaction commits (PostgreSQL; elsewhere they poll).

    NOTIFY is transactional: PostgreSQL delivers it at commit and drops it on rollback, and
    identical notifications of one transaction are folded into one. No SMTP, no network wait.
    """
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [OUTBOX_CHANNEL])


def _one_line(text: str, *, limit: int) -> str:
    # A header must not break lines (Django refuses it at send time: the row could never go
    # out), and a long name must not overflow the column (which would fail the assignment).
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- delivering ------------------------------------------------------------------------------


def notifications_send_due(*, limit: int = 100, stop: threading.Event | None = None) -> DeliveryReport:
    """One worker pass: send up to `limit` due rows, settle abandoned ones; stops early on `stop`."""
    _notifications_fail_exhausted(now=timezone.now())
    report = DeliveryReport()
    tried: list[uuid.UUID] = []  # a pass tries a row once, even if its retry is already due
    connection = get_connection()
    try:
        while report.attempted < limit and not (stop and stop.is_set()):
            claim = _notification_claim(now=timezone.now(), tried=tried)
            if claim is None:
                break
            notification, token = claim
            tried.append(notification.pk)
            report += _notification_send(notification=notification, token=token, connection=connection)
    finally:
        connection.close()
    return report


def _claim_token() -> str:
    return f"{socket.gethostname()[:50]}:{os.getpid()}:{uuid.uuid4().hex}"


def _due(*, now: datetime) -> Q:
    unclaimed = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    return (
        Q(status=NotificationStatus.PENDING, next_attempt_at__lte=now, attempts__lt=settings.NOTIFICATION_MAX_ATTEMPTS)
        & unclaimed
    )


def _notification_claim(*, now: datetime, tried: list) -> tuple[Notification, str] | None:
    """Claim one due row for this sender (see the module docstring), or None."""
    due = Notification.objects.filter(_due(now=now))
    if tried:
        due = due.exclude(pk__in=tried)
    candidate = due.order_by("next_attempt_at", "created_at", "id").select_for_update(skip_locked=True)
    token = _claim_token()
    with transaction.atomic():
        # `pk = (scalar subquery)`, not `pk IN (...)`: PostgreSQL may rescan an IN subquery per
        # row, and with SKIP LOCKED each rescan can yield another row: one claim, many rows.
        claimed = due.filter(pk=Subquery(candidate.values("pk")[:1])).update(
            claimed_by=token,
            claimed_until=now + timedelta(seconds=settings.NOTIFICATION_LEASE_SECONDS),
            attempts=F("attempts") + 1,
        )
    if not claimed:
        return None
    # By status too: the (status, next_attempt_at) index keeps this off the sent rows' history.
    return Notification.objects.get(status=NotificationStatus.PENDING, claimed_by=token), token


def _notification_message(notification: Notification, connection) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.to_email],
        headers={"Message-ID": notification.message_id, "Auto-Submitted": "auto-generated"},
        connection=connection,
    )
    if notification.html_body:
        message.attach_alternative(notification.html_body, "text/html")
    return message


def _notification_send(*, notification: Notification, token: str, connection) -> DeliveryReport:
    try:
        if _notification_message(notification, connection).send() != 1:
            raise RuntimeError("the email backend accepted no message")
    except Exception as error:  # noqa: BLE001 - every delivery failure is retried later
        # A broken SMTP session would fail every later row of this pass: start a fresh one.
        connection.close()
        return _notification_settle_failure(notification=notification, token=token, error=error)
    settled = Notification.objects.filter(pk=notification.pk, claimed_by=token).update(
        status=NotificationStatus.SENT, sent_at=timezone.now(), last_error="", claimed_by="", claimed_until=None
    )
    if not settled:
        logger.warning("notification %s sent after its claim expired; it may be sent twice", notification.pk)
    return DeliveryReport(sent=1)


def _notification_settle_failure(*, notification: Notification, token: str, error: Exception) -> DeliveryReport:
    attempts = notification.attempts  # already counted by the claim
    description = f"{type(error).__name__}: {error}"[:1000]
    exhausted = attempts >= settings.NOTIFICATION_MAX_ATTEMPTS
    changes = {"last_error": description, "claimed_by": "", "claimed_until": None}
    if exhausted:
        changes |= {"status": NotificationStatus.FAILED, "next_attempt_at": None}
    else:
        changes |= {"next_attempt_at": timezone.now() + backoff_delay(attempts)}
    Notification.objects.filter(pk=notification.pk, claimed_by=token).update(**changes)
    if exhausted:
        logger.error("notification %s FAILED after %d attempts: %s", notification.pk, attempts, type(error).__name__)
        return DeliveryReport(failed=1)
    logger.warning("notification %s not delivered (attempt %d): %s", notification.pk, attempts, type(error).__name__)
    return DeliveryReport(retrying=1)


def _notifications_fail_exhausted(*, now: datetime) -> int:
    """Rows out of attempts whose last claim ran out (their sender died): FAILED, for staff."""
    count = (
        Notification.objects.filter(
            status=NotificationStatus.PENDING, attempts__gte=settings.NOTIFICATION_MAX_ATTEMPTS
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .update(status=NotificationStatus.FAILED, next_attempt_at=None, claimed_by="", claimed_until=None)
    )
    if count:
        logger.error("%d notification(s) FAILED: out of attempts after their sender stopped", count)
    return count


# --- watching the queue (metrics, the worker's backlog warning and its sleep) -----------------


@dataclass(frozen=True)
class OutboxBacklog:
    """Counts only: no recipient, no content.

    Every row is due from the moment it is written; a failed attempt only defers its next try.
    So the age of the oldest unsent row is how late the most delayed mail is, outage or not.
    """

    due: int  # PENDING and due now: waiting for a sender
    scheduled: int  # PENDING with a retry time still ahead (an earlier attempt failed)
    failed: int  # FAILED: out of attempts, waiting for staff
    oldest_unsent_created_at: datetime | None  # when the oldest PENDING row was written

    @property
    def unsent(self) -> int:
        return self.due + self.scheduled

    def oldest_unsent_age_seconds(self, *, now: datetime) -> float:
        return max(0.0, (now - self.oldest_unsent_created_at).total_seconds()) if self.oldest_unsent_created_at else 0.0


def outbox_backlog(*, now: datetime) -> OutboxBacklog:
    """The queue's state in one aggregate query (the (status, next_attempt_at) index serves it)."""
    pending = Q(status=NotificationStatus.PENDING)
    due = pending & Q(next_attempt_at__lte=now)
    row = Notification.objects.filter(status__in=[NotificationStatus.PENDING, NotificationStatus.FAILED]).aggregate(
        due=Count("pk", filter=due),
        scheduled=Count("pk", filter=pending & Q(next_attempt_at__gt=now)),
        failed=Count("pk", filter=Q(status=NotificationStatus.FAILED)),
        oldest=Min("created_at", filter=pending),
    )
    return OutboxBacklog(
        due=row["due"], scheduled=row["scheduled"], failed=row["failed"], oldest_unsent_created_at=row["oldest"]
    )


def outbox_next_due_at() -> datetime | None:
    """When the earliest pending row becomes claimable (a worker need not sleep past it).

    A row another sender holds is claimable only when its lease runs out, whatever its retry
    time says: counting it as due now would spin an idle worker until then.
    """
    claimable_at = Greatest("next_attempt_at", Coalesce("claimed_until", "next_attempt_at"))
    return (
        Notification.objects.filter(status=NotificationStatus.PENDING, next_attempt_at__isnull=False)
        .annotate(claimable_at=claimable_at)
        .order_by("claimable_at")
        .values_list("claimable_at", flat=True)
        .first()
    )


def backoff_delay(attempts: int) -> timedelta:
    """Delay after the `attempts`-th failure: base * 2^(attempts-1), capped, with equal jitter.

    The jitter (a uniform draw in the upper half) spreads out the retries of rows that failed
    together, e.g. during an SMTP outage, so they don't all hit the server at the same second.
    """
    base = settings.NOTIFICATION_BACKOFF_BASE_SECONDS
    cap = settings.NOTIFICATION_BACKOFF_MAX_SECONDS
    ceiling = min(cap, base * 2 ** min(max(attempts - 1, 0), 32))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 - not security


# --- staff -----------------------------------------------------------------------------------


@transaction.atomic
def notification_retry(*, actor: User, notification: Notification) -> bool:
    """Give a FAILED row a fresh set of attempts, starting right after commit. False if not FAILED."""
    if not (is_staff_member(actor) and actor.has_perm("care.change_notification")):
        raise PermissionDenied("You are not allowed to retry notifications.")
    retried = Notification.objects.filter(pk=notification.pk, status=NotificationStatus.FAILED).update(
        status=NotificationStatus.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        claimed_by="",
        claimed_until=None,
    )
    if retried:
        logger.info("notification %s put back in the queue by user %s", notification.pk, actor.pk)
        _workers_wake()
    return bool(retried)
