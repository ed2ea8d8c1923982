from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from audit.partitions import PartitionNotVerified, audit_partition_prune, audit_partitions_list, next_month


class Command(BaseCommand):
    help = (
        "Drop the audit trail's monthly partitions older than AUDIT_RETENTION_YEARS (PostgreSQL), only once a "
        "signed checkpoint has verified every event in them; the anchors are kept."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--database", default="default", help="Database alias.")
        parser.add_argument("--dry-run", action="store_true", help="Only say which months would go.")

    def handle(self, *args, **options) -> None:
        using = options["database"]
        years = int(getattr(settings, "AUDIT_RETENTION_YEARS", 6))
        now = timezone.now().date()
        cutoff = now.replace(year=now.year - years, day=1)
        expired = [month for month in audit_partitions_list(using=using) if next_month(month) <= cutoff]
        if not expired:
            self.stdout.write(f"Nothing older than {years} years (before {cutoff:%Y-%m}).")
            return
        for month in expired:
            if options["dry_run"]:
                self.stdout.write(f"would drop {month:%Y-%m}")
                continue
            try:
                origins = audit_partition_prune(month=month, using=using)
            except PartitionNotVerified as error:
                raise CommandError(f"Refused: {error}.") from error
            moved = ", ".join(f"shard {shard} from #{sequence}" for shard, (sequence, _) in sorted(origins.items()))
            self.stdout.write(f"dropped {month:%Y-%m}" + (f"; chains now start after it ({moved})" if moved else ""))
