import signal
import threading

from django.core.management.base import BaseCommand

from audit.anchors import audit_anchor_append


class Command(BaseCommand):
    help = "Anchor the heads of the audit trail's shards in the root chain; log and print the root head."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--database", default="default", help="Database alias.")
        parser.add_argument(
            "--every", type=float, default=0, help="Keep anchoring every SECONDS until stopped (0: once, default)."
        )

    def handle(self, *args, **options) -> None:
        stop = threading.Event()
        if options["every"] > 0:
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
        while True:
            anchor = audit_anchor_append(using=options["database"])
            if anchor is not None:
                self.stdout.write(f"Audit root head #{anchor.sequence}: {anchor.hash}")
            elif options["every"] <= 0:
                self.stdout.write("Audit root head unchanged: no new events since the last anchor.")
            if options["every"] <= 0 or stop.wait(options["every"]):
                return
