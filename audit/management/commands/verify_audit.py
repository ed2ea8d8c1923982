from django.core.management.base import BaseCommand, CommandError

from audit.anchors import audit_anchors_verify
from audit.models import AuditAnchor
from audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Walk the audit trail's hash chains (one per shard); report the first broken link and exit non-zero."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--database", default="default", help="Database alias to check.")

    def handle(self, *args, **options) -> None:
        report = audit_chain_verify(using=options["database"])
        if report.broken is not None:
            broken = report.broken
            raise CommandError(
                f"Audit chain of shard {broken.shard} broken at event {broken.event_id or '-'} "
                f"(sequence {broken.sequence}): {broken.reason}. "
                f"{report.checked} events checked before it are intact."
            )
        problem = audit_anchors_verify(using=options["database"])
        if problem is not None:
            raise CommandError(f"Audit root chain broken: {problem}.")
        used = [shard for shard in report.shards if shard.checked > 0]
        summary = f"Audit chain intact: {report.checked} events in {len(used)} of {len(report.shards)} shards."
        self.stdout.write(self.style.SUCCESS(summary))
        for shard in used:
            self.stdout.write(f"  shard {shard.shard}: head sequence {shard.head_sequence}, hash {shard.head_hash}")
        root = AuditAnchor.objects.using(options["database"]).order_by("-sequence").first()
        if root is not None:
            self.stdout.write(f"  root chain: head anchor #{root.sequence}, hash {root.hash}")
