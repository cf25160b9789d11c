from django.core.management.base import BaseCommand, CommandError

from marketplace.exceptions import ApplicationError
from marketplace.models import User
from payments.reprocess import stripe_event_lookup, stripe_event_reprocess


class Command(BaseCommand):
    help = (
        "Process one stored Stripe event again, as a named staff member with a reason "
        "(written to the staff action log). An event already processed is left as it is."
    )

    def add_arguments(self, parser):
        parser.add_argument("event", help="Stripe's event id (evt_…) or the StripeEvent row id.")
        parser.add_argument("--reason", required=True, help="Why (goes to the audit log).")
        parser.add_argument("--actor", required=True, help="Email of the staff member acting.")

    def handle(self, *args, event, reason, actor, **options):
        staff = User.objects.filter(email__iexact=actor.strip(), is_staff=True).first()
        if staff is None:
            raise CommandError(f"No staff account with the email {actor!r}.")
        row = stripe_event_lookup(ident=event)
        if row is None:
            raise CommandError(f"No stored Stripe event {event!r}.")
        try:
            result = stripe_event_reprocess(actor=staff, event=row, reason=reason)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(result.message)
        if result.status == "FAILED":
            raise CommandError("The event is still failing; see its last_error.")
