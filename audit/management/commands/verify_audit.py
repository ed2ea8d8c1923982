from django.core.management.base import BaseCommand, CommandError

from audit.checkpoints import CheckpointForged, audit_trail_verify


class Command(BaseCommand):
    help = (
        "Verify the audit trail's hash chains (one per shard, in parallel) and its root chain, from the last "
        "signed checkpoint (--full: from the start); write a new checkpoint when clean, else exit non-zero."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--database", default="default", help="Database alias to check.")
        parser.add_argument("--full", action="store_true", help="Every event, not only those after the checkpoint.")
        parser.add_argument("--workers", type=int, default=0, help="Processes (default: AUDIT_VERIFY_WORKERS or CPUs).")
        parser.add_argument("--no-checkpoint", action="store_true", help="Do not record a checkpoint.")

    def handle(self, *args, **options) -> None:
        try:
            report, start, root_problem = audit_trail_verify(
                using=options["database"],
                full=options["full"],
                workers=options["workers"] or None,
                checkpoint=not options["no_checkpoint"],
            )
        except CheckpointForged as error:
            raise CommandError(f"Audit checkpoint forged: {error}. Run verify_audit --full.") from error
        if report.broken is not None:
            broken = report.broken
            raise CommandError(
                f"Audit chain of shard {broken.shard} broken at event {broken.event_id or '-'} "
                f"(sequence {broken.sequence}): {broken.reason}. "
                f"{report.checked} events checked before it are intact."
            )
        if root_problem is not None:
            raise CommandError(f"Audit root chain broken: {root_problem}.")
        used = [shard for shard in report.shards if shard.checked > 0]
        since = f"since checkpoint {start.pk} ({start.created_at:%Y-%m-%d %H:%M:%S})" if start else "from the start"
        summary = f"Audit chain intact: {report.checked} events in {len(used)} of {len(report.shards)} shards, {since}."
        self.stdout.write(self.style.SUCCESS(summary))
        for shard in used:
            self.stdout.write(f"  shard {shard.shard}: head sequence {shard.head_sequence}, hash {shard.head_hash}")
