import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from audit.partitions import audit_partitions_create, audit_partitions_list, is_partitioned


class Command(BaseCommand):
    help = "Create the audit trail's monthly partitions ahead of time (PostgreSQL); list them."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--database", default="default", help="Database alias.")
        parser.add_argument("--ahead", type=int, default=3, help="Months after this one to create (default 3).")
        parser.add_argument(
            "--since", type=datetime.date.fromisoformat, default=None, help="Also the months from this date on."
        )

    def handle(self, *args, **options) -> None:
        using = options["database"]
        if not is_partitioned(using=using):
            raise CommandError("The audit trail is partitioned on PostgreSQL only.")
        today = timezone.now().date()
        until = today
        for _ in range(options["ahead"]):
            until = (until.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        created = audit_partitions_create(since=options["since"] or today, until=until, using=using)
        for name in created:
            self.stdout.write(f"created {name}")
        months = audit_partitions_list(using=using)
        self.stdout.write(f"{len(months)} monthly partitions, {months[0]:%Y-%m} to {months[-1]:%Y-%m}.")
