from django.core.management.base import BaseCommand

from idempotency.services import idempotency_keys_purge


class Command(BaseCommand):
    help = "Delete Idempotency-Key answers older than their 24 hours (run it from cron, e.g. hourly)."

    def handle(self, *args, **options) -> None:
        deleted = idempotency_keys_purge()
        self.stdout.write(f"Deleted {deleted} expired idempotency keys.")
