from django.core.management.base import BaseCommand

from orders.services import ABANDONED_AFTER, orders_expire_abandoned


class Command(BaseCommand):
    help = "Expire checkouts still pending after 48 hours and give their reserved stock back."

    def handle(self, *args, **options):
        total = 0
        while expired := orders_expire_abandoned():
            total += expired
        hours = int(ABANDONED_AFTER.total_seconds() // 3600)
        self.stdout.write(f"Expired {total} order(s) pending for over {hours} hours.")
