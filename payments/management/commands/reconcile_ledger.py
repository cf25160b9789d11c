from django.core.management.base import BaseCommand, CommandError

from payments.reconcile import reconcile


class Command(BaseCommand):
    help = (
        "Compare the seller and platform ledgers with order snapshots, recorded transfers "
        "and what Stripe charged; list money on its way; non-zero exit on drift."
    )

    def add_arguments(self, parser):
        parser.add_argument("--order", type=int, action="append", help="Only these orders.")

    def handle(self, *args, **options):
        report = reconcile(order_ids=options["order"])
        for drift in report.drifts:
            who = f" seller {drift.seller_id}" if drift.seller_id else ""
            self.stdout.write(f"DRIFT order {drift.order_id}{who}: {drift.problem}")
        for item in report.open_items:
            who = f" seller {item.seller_id}" if item.seller_id else ""
            self.stdout.write(f"OPEN  order {item.order_id}{who}: {item.problem}")
        self.stdout.write(
            f"Checked {report.checked} orders: {len(report.drifts)} drift(s), "
            f"{len(report.open_items)} open item(s)."
        )
        if report.drifts:
            raise CommandError(f"{len(report.drifts)} drift(s) found")
        self.stdout.write(self.style.SUCCESS("Ledger reconciles: zero drift."))
