import time

from django.core.management.base import BaseCommand

from analytics.trending import trending_recompute


class Command(BaseCommand):
    help = "Recompute every listing's trending score now (also runs on Celery beat)."

    def handle(self, *args, **options):
        started = time.monotonic()
        updated = trending_recompute()
        self.stdout.write(
            f"Trending recomputed for {updated} listings in {time.monotonic() - started:.2f} s."
        )
