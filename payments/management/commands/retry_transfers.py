from django.core.management.base import BaseCommand, CommandError

from payments.models import SellerTransfer
from payments.payouts import seller_transfers_retry, transfer_attempt, transfers_retry_due


class Command(BaseCommand):
    help = (
        "Attempt transfers again after the cause was fixed: FAILED ones of a seller "
        "(--seller), one transfer (--transfer), or every FAILED one (--all-failed); with "
        "no option, the PENDING ones that are due. Idempotent: a transfer Stripe already "
        "made is found and recorded, never sent twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seller", type=int, help="Seller user id.")
        parser.add_argument("--transfer", type=int, help="SellerTransfer id.")
        parser.add_argument("--all-failed", action="store_true")

    def handle(self, *args, **options):
        if options["transfer"]:
            transfer = SellerTransfer.objects.filter(pk=options["transfer"]).first()
            if transfer is None:
                raise CommandError(f"No transfer {options['transfer']}.")
            SellerTransfer.objects.filter(pk=transfer.pk, status="FAILED").update(
                status="PENDING", next_attempt_at=None, consecutive_failures=0
            )
            transfer = transfer_attempt(transfer_id=transfer.pk)
            self.stdout.write(f"Transfer {transfer.pk}: {transfer.status} {transfer.last_error}")
            return
        sellers = []
        if options["seller"]:
            sellers = [options["seller"]]
        elif options["all_failed"]:
            sellers = sorted(
                set(
                    SellerTransfer.objects.filter(status="FAILED").values_list(
                        "seller_id", flat=True
                    )
                )
            )
        sent = sum(seller_transfers_retry(seller_id=seller_id) for seller_id in sellers)
        due = transfers_retry_due()
        failed = SellerTransfer.objects.filter(status="FAILED").count()
        self.stdout.write(
            f"Sent {sent} reopened transfer(s); {due} due transfer(s) attempted; "
            f"{failed} still FAILED."
        )
