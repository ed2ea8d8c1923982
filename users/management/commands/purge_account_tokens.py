from django.core.management.base import BaseCommand

from users.account_tokens import account_tokens_purge


class Command(BaseCommand):
    help = (
        "Delete invitation and password-reset tokens that are used or expired and no longer count "
        "towards the reset rate limits (run it from cron, e.g. hourly)."
    )

    def handle(self, *args, **options) -> None:
        deleted = account_tokens_purge()
        self.stdout.write(f"Deleted {deleted} used or expired account tokens.")
