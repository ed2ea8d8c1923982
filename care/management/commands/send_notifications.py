"""Deliver the notification outbox: one pass, or `--loop` as a long-running worker.

The worker is the only place mail is sent (requests only write outbox rows). An idle worker
waits until the earliest of: a PostgreSQL NOTIFY on the outbox channel (sent by the
transaction that wrote a row, so a new mail goes out within moments of its commit), the next
scheduled retry, the poll interval (the only wake-up on SQLite), or a stop signal.
"""

import logging
import os
import select
import signal
import socket
import threading
import time

import psycopg
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, close_old_connections, connections
from django.utils import timezone

from care.notifications import (
    OUTBOX_CHANNEL,
    DeliveryReport,
    notifications_send_due,
    outbox_backlog,
    outbox_next_due_at,
)

logger = logging.getLogger(__name__)

MIN_INTERVAL, MAX_INTERVAL = 0.1, 300.0
# Without LISTEN the poll is what delivers new mail: short. With it, polling is only a safety
# net (a NOTIFY lost while the listening connection was down): long.
POLL_INTERVAL, LISTEN_INTERVAL = 1.0, 30.0
DEFAULT_BACKLOG_WARNING = 500
# How often the worker looks at the backlog, and repeats its warning while it stays high.
BACKLOG_CHECK_SECONDS, BACKLOG_REPEAT_SECONDS = 30.0, 300.0


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
            default=None,
            help=f"With --loop: seconds between polls when idle ({MIN_INTERVAL:g}-{MAX_INTERVAL:g}; default "
            f"{POLL_INTERVAL:g}, or {LISTEN_INTERVAL:g} on PostgreSQL, where NOTIFY wakes the worker at once).",
        )
        parser.add_argument(
            "--batch", type=int, default=100, help="At most this many notifications per pass (default 100)."
        )
        parser.add_argument(
            "--backlog-warning",
            type=int,
            default=int(os.environ.get("NOTIFICATION_BACKLOG_WARNING", DEFAULT_BACKLOG_WARNING)),
            help="With --loop: log a WARNING while at least this many notifications are unsent "
            f"(env NOTIFICATION_BACKLOG_WARNING, default {DEFAULT_BACKLOG_WARNING}).",
        )

    def handle(self, *args, loop: bool, interval: float | None, batch: int, backlog_warning: int, **options) -> None:
        if interval is not None and not MIN_INTERVAL <= interval <= MAX_INTERVAL:
            raise CommandError(f"--interval must be between {MIN_INTERVAL:g} and {MAX_INTERVAL:g} seconds.")
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        if backlog_warning < 1:
            raise CommandError("--backlog-warning must be at least 1.")
        if not loop:
            self._report(notifications_send_due(limit=batch))
            return
        self._work(interval=interval, batch=batch, backlog_warning=backlog_warning)

    def _work(self, *, interval: float | None, batch: int, backlog_warning: int) -> None:
        wakeup = Wakeup()
        previous = {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            # A stop request lets the current mail finish and settle: no half-recorded send.
            previous[signum] = signal.signal(signum, lambda received, frame: wakeup.request_stop())
        listening = wakeup.listen()
        idle_interval = interval or (LISTEN_INTERVAL if listening else POLL_INTERVAL)
        how = f"woken by PostgreSQL NOTIFY, polling every {idle_interval:g}s" if listening else (
            f"polling every {idle_interval:g}s"
        )
        self.stdout.write(f"Notification worker started ({how}, batch {batch}).")
        self.stdout.flush()
        watch = BacklogWatch(threshold=backlog_warning)
        total = DeliveryReport()
        try:
            while not wakeup.stop.is_set():
                # A long-lived worker must not keep a connection the database has dropped.
                close_old_connections()
                wakeup.listen()  # again after a lost listening connection; a no-op otherwise
                try:
                    report = notifications_send_due(limit=batch, stop=wakeup.stop)
                    watch.check()
                    sleep = 0.0 if report.attempted >= batch else _seconds_until_due(idle_interval)
                except DatabaseError:
                    logger.exception("notification pass failed; retrying after the interval")
                    report, sleep = DeliveryReport(), idle_interval
                total += report
                if report.attempted:
                    logger.info(
                        "notifications: %d sent, %d to retry, %d failed", report.sent, report.retrying, report.failed
                    )
                if sleep > 0:
                    wakeup.wait(sleep)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            wakeup.close()
            close_old_connections()
        self.stdout.write("Notification worker stopped.")
        self._report(total)

    def _report(self, report: DeliveryReport) -> None:
        self.stdout.write(f"{report.sent} sent, {report.retrying} to retry, {report.failed} failed.")


def _seconds_until_due(idle_interval: float) -> float:
    """Sleep at most until the next retry (or a lease) comes due, and at most the interval."""
    next_due = outbox_next_due_at()
    if next_due is None:
        return idle_interval
    return min(idle_interval, max(0.0, (next_due - timezone.now()).total_seconds()))


class Wakeup:
    """How an idle worker waits: until a NOTIFY (PostgreSQL), a stop signal, or a timeout.

    The listening connection is a dedicated autocommit one, apart from Django's (which
    close_old_connections may close at any time, and whose transactions would hold NOTIFYs
    back until they end). A signal handler cannot interrupt a select() (PEP 475 retries it), so
    a stop request also writes to a socket pair the wait selects on.
    """

    def __init__(self) -> None:
        self.stop = threading.Event()
        self._stop_reader, self._stop_writer = socket.socketpair()
        self._stop_writer.setblocking(False)
        self._listener: psycopg.Connection | None = None

    def request_stop(self) -> None:
        self.stop.set()
        try:
            self._stop_writer.send(b"\0")
        except OSError:  # the buffer is full: a wake-up is already pending
            pass

    def listen(self) -> bool:
        """LISTEN on the outbox channel if the database is PostgreSQL; True while listening."""
        if self._listener is not None and not self._listener.closed:
            return True
        database = connections[DEFAULT_DB_ALIAS]
        if database.vendor != "postgresql":
            return False
        try:
            self._listener = psycopg.connect(**database.get_connection_params(), autocommit=True)
            self._listener.execute(f"LISTEN {OUTBOX_CHANNEL}")
        except psycopg.Error as error:
            logger.warning("cannot LISTEN for notifications (%s); polling instead", type(error).__name__)
            self._close_listener()
            return False
        return True

    def wait(self, timeout: float) -> None:
        sources = [self._stop_reader] + ([self._listener] if self._listener is not None else [])
        deadline = time.monotonic() + timeout
        while not self.stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            ready, _, _ = select.select(sources, [], [], remaining)
            if self._listener is not None and self._listener in ready:
                try:
                    notified = bool(list(self._listener.notifies(timeout=0)))  # drain them all
                except psycopg.Error as error:
                    # The server went away: poll until the next pass listens again.
                    logger.warning("lost the LISTEN connection (%s)", type(error).__name__)
                    self._close_listener()
                    return
                if notified:
                    return
                # Readable without a notification (e.g. a server message): keep waiting.

    def close(self) -> None:
        self._close_listener()
        self._stop_reader.close()
        self._stop_writer.close()

    def _close_listener(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None


class BacklogWatch:
    """Logs a WARNING while the unsent backlog is at or over the threshold (mail is not going out).

    Every worker checks every BACKLOG_CHECK_SECONDS; it warns when the backlog crosses the
    threshold and again every BACKLOG_REPEAT_SECONDS while it stays there, and says when it is
    back under. Counts and ages only: no recipient, no content.
    """

    def __init__(self, *, threshold: int) -> None:
        self.threshold = threshold
        self._checked_at: float | None = None
        self._warned_at: float | None = None

    def check(self) -> None:
        now = time.monotonic()
        if self._checked_at is not None and now - self._checked_at < BACKLOG_CHECK_SECONDS:
            return
        self._checked_at = now
        backlog = outbox_backlog(now=timezone.now())
        if backlog.unsent >= self.threshold:
            if self._warned_at is None or now - self._warned_at >= BACKLOG_REPEAT_SECONDS:
                self._warned_at = now
                logger.warning(
                    "notification backlog: %d unsent (%d due, %d waiting for a retry; threshold %d), "
                    "the oldest for %.0f s; is the mail relay reachable?",
                    backlog.unsent,
                    backlog.due,
                    backlog.scheduled,
                    self.threshold,
                    backlog.oldest_unsent_age_seconds(now=timezone.now()),
                    extra={"outbox_unsent": backlog.unsent, "outbox_threshold": self.threshold},
                )
        elif self._warned_at is not None:
            self._warned_at = None
            logger.info("notification backlog back under the threshold: %d unsent", backlog.unsent)
