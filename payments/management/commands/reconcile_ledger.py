from django.core.management.base import BaseCommand, CommandError

from payments.reconcile import reconcile_ledger


class Command(BaseCommand):
    help = "Compare the seller ledger with order snapshots and transfers; non-zero on drift."

    def handle(self, *args, **options):
        checked, drifts = reconcile_ledger()
        for drift in drifts:
            self.stdout.write(
                f"DRIFT order {drift.order_id} seller {drift.seller_id}: {drift.problem}"
            )
        self.stdout.write(f"Checked {checked} paid orders: {len(drifts)} drift(s).")
        if drifts:
            raise CommandError(f"{len(drifts)} drift(s) found")
        self.stdout.write(self.style.SUCCESS("Ledger reconciles: zero drift."))
