"""The notification outbox: rows written with their cause, delivered after commit."""

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from care.models import Notification, NotificationKind, NotificationStatus
from users.models import Doctor

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)


def notification_enqueue_doctor_assigned(*, doctor: Doctor) -> Notification:
    """Tell the doctor *that* a patient was assigned; no PHI, not even the patient's name."""
    context = {"recipient_name": doctor.user.full_name}
    return _notification_enqueue(
        kind=NotificationKind.DOCTOR_ASSIGNED,
        recipient=doctor.user,
        subject="A patient has been assigned to you",
        body=render_to_string("care/email/doctor_assigned.txt", context),
    )


def _notification_enqueue(*, kind, recipient, subject: str, body: str) -> Notification:
    notification = Notification.objects.create(
        kind=kind,
        recipient=recipient,
        to_email=recipient.email,
        subject=subject,
        body=body,
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(lambda: notification_deliver(notification_id=notification.pk))
    return notification


def backoff_delay(attempts: int) -> timedelta:
    """Exponential backoff with full jitter, capped."""
    ceiling = min(MAX_BACKOFF.total_seconds(), 30 * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def notification_deliver(*, notification_id) -> bool:
    """Send one pending notification. Never raises: a failure stays pending for a retry."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .filter(pk=notification_id, status=NotificationStatus.PENDING)
            .first()
        )
        if notification is None:
            return False
        try:
            message = EmailMultiAlternatives(
                subject=notification.subject,
                body=notification.body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[notification.to_email],
            )
            message.send()
        except Exception as error:  # noqa: BLE001 - any delivery failure is retried later
            notification.attempts += 1
            notification.last_error = f"{type(error).__name__}: {error}"[:1000]
            notification.next_attempt_at = timezone.now() + backoff_delay(notification.attempts)
            notification.save(update_fields=["attempts", "last_error", "next_attempt_at"])
            logger.warning("notification %s not delivered: %s", notification.pk, type(error).__name__)
            return False
        notification.attempts += 1
        notification.status = NotificationStatus.SENT
        notification.sent_at = timezone.now()
        notification.last_error = ""
        notification.save(update_fields=["attempts", "status", "sent_at", "last_error"])
        return True
