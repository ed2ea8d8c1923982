from django.core.management.base import BaseCommand, CommandError

from audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Walk the audit trail's hash chain; report the first broken link and exit non-zero."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--database", default="default", help="Database alias to check.")

    def handle(self, *args, **options) -> None:
        report = audit_chain_verify(using=options["database"])
        if report.broken is not None:
            broken = report.broken
            raise CommandError(
                f"Audit chain broken at event {broken.event_id} (sequence {broken.sequence}): {broken.reason}. "
                f"{report.checked} events before it are intact."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain intact: {report.checked} events; head sequence {report.head_sequence}, "
                f"hash {report.head_hash}."
            )
        )
