from datetime import timedelta

from django.core.management.base import BaseCommand

from messaging.services import emails_retry_failed


class Command(BaseCommand):
    help = (
        "Queue again FAILED emails (created within --failed-within-hours) and PENDING "
        "ones whose try was due more than --stale-minutes ago. Also on Celery beat."
    )

    def add_arguments(self, parser):
        parser.add_argument("--stale-minutes", type=int, default=30)
        parser.add_argument("--failed-within-hours", type=int, default=24)
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args, stale_minutes, failed_within_hours, limit, **options):
        counts = emails_retry_failed(
            stale_after=timedelta(minutes=max(stale_minutes, 0)),
            failed_within=timedelta(hours=max(failed_within_hours, 0)),
            limit=max(limit, 1),
        )
        self.stdout.write(
            f"Re-queued {counts.failed} failed and {counts.stale} stale pending emails."
        )
