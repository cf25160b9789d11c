from django.core.management.base import BaseCommand

from orders.services import order_items_auto_deliver


class Command(BaseCommand):
    help = (
        "Mark DELIVERED the printed items shipped more than SiteConfig.auto_deliver_after_days "
        "ago that their buyer has not confirmed (also a beat job)."
    )

    def handle(self, *args, **options) -> None:
        count = order_items_auto_deliver()
        self.stdout.write(f"{count} item{'s' if count != 1 else ''} marked delivered.")
