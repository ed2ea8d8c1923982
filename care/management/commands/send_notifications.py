"""Deliver the notification outbox: one pass, or `--loop` as a long-running worker."""

import logging
import signal
import threading

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections

from care.notifications import DeliveryReport, notifications_send_due

logger = logging.getLogger(__name__)

MIN_INTERVAL, MAX_INTERVAL = 0.1, 300.0


class Command(BaseCommand):
    help = (
        "Send the notifications that are due (new, or whose retry time has come). Safe to run "
        "in several processes at once: each row is claimed by one sender."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--loop",
            action="store_true",
            help="Keep running as a worker until SIGTERM or SIGINT (finishes the mail in hand, then exits).",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=5.0,
            help=f"With --loop: seconds to wait after a pass that emptied the queue "
            f"({MIN_INTERVAL:g}-{MAX_INTERVAL:g}, default 5).",
        )
        parser.add_argument(
            "--batch", type=int, default=100, help="At most this many notifications per pass (default 100)."
        )

    def handle(self, *args, loop: bool, interval: float, batch: int, **options) -> None:
        if not MIN_INTERVAL <= interval <= MAX_INTERVAL:
            raise CommandError(f"--interval must be between {MIN_INTERVAL:g} and {MAX_INTERVAL:g} seconds.")
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        if not loop:
            self._report(notifications_send_due(limit=batch))
            return
        self._work(interval=interval, batch=batch)

    def _work(self, *, interval: float, batch: int) -> None:
        stop = threading.Event()
        previous = {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            # A stop request lets the current mail finish and settle: no half-recorded send.
            previous[signum] = signal.signal(signum, lambda received, frame: stop.set())
        self.stdout.write(f"Notification worker started (interval {interval:g}s, batch {batch}).")
        total = DeliveryReport()
        try:
            while not stop.is_set():
                # A long-lived worker must not keep a connection the database has dropped.
                close_old_connections()
                try:
                    report = notifications_send_due(limit=batch, stop=stop)
                except DatabaseError:
                    logger.exception("notification pass failed; retrying after the interval")
                    report = DeliveryReport()
                total += report
                if report.attempted:
                    logger.info(
                        "notifications: %d sent, %d to retry, %d failed", report.sent, report.retrying, report.failed
                    )
                if report.attempted < batch:
                    stop.wait(interval)  # the queue is drained: sleep, but wake at once on a signal
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            close_old_connections()
        self.stdout.write("Notification worker stopped.")
        self._report(total)

    def _report(self, report: DeliveryReport) -> None:
        self.stdout.write(f"{report.sent} sent, {report.retrying} to retry, {report.failed} failed.")
