from django.core.management.base import BaseCommand

from payments.checkout import checkout_sweep_abandoned


class Command(BaseCommand):
    help = (
        "Checkouts pending past their session's life (CHECKOUT_SESSION_MINUTES) plus 15 "
        "minutes: expire their Stripe session first, then expire the order (stock comes "
        "back), or confirm a payment Stripe took. Safe to run any time; also on beat "
        "every 10 minutes."
    )

    def handle(self, *args, **options):
        total = {"expired": 0, "paid": 0, "waiting": 0, "errors": 0}
        while True:
            summary = checkout_sweep_abandoned()
            for name in total:
                total[name] += getattr(summary, name)
            # Only expired/paid orders leave PENDING; the others would come back forever.
            if summary.expired + summary.paid == 0:
                break
        self.stdout.write(
            "Expired {expired}, confirmed paid {paid}, still settling {waiting}, "
            "gateway errors {errors}.".format(**total)
        )
