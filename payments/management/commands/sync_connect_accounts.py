from django.core.management.base import BaseCommand

from payments.services import seller_stripe_accounts_sync_all


class Command(BaseCommand):
    help = "Fetch every seller's connected Stripe account and mirror its payout readiness."

    def handle(self, *args, **options):
        summary = seller_stripe_accounts_sync_all()
        for error in summary.errors:
            self.stderr.write(f"error: {error}")
        self.stdout.write(
            f"Synced {summary.total} account(s): {summary.ready} ready "
            f"({summary.changed_to_ready} newly), {summary.not_ready} not ready, "
            f"{len(summary.errors)} error(s)."
        )
