from django.core.management.base import BaseCommand

from payments.followups import orders_followups_complete, orders_followups_due
from payments.payment_refunds import payment_refunds_retry_due
from payments.payouts import transfers_retry_due


class Command(BaseCommand):
    help = (
        "Complete what lost tasks left undone: PAID orders missing their SALE rows, "
        "transfers, platform fee or emails; transfers and refunds whose retry is due. "
        "Idempotent; the same jobs run on beat."
    )

    def handle(self, *args, **options):
        due = len(orders_followups_due(limit=10_000))
        ran = 0
        while ran < due and (batch := orders_followups_complete()):
            ran += batch
        transfers = transfers_retry_due()
        refunds = payment_refunds_retry_due()
        self.stdout.write(
            f"Follow-ups run for {ran} paid order(s); {transfers} transfer(s) and "
            f"{refunds} refund(s) attempted."
        )
