from django.core.management.base import BaseCommand, CommandError

from payments.models import StripeEvent
from payments.services import stripe_event_process, stripe_event_reset, stripe_events_for_replay


class Command(BaseCommand):
    help = (
        "Process stored Stripe events again, inline: by default every FAILED row and every "
        "RECEIVED row whose task was lost (older than 10 minutes). Handlers are idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all",
            action="store_true",
            help="Every unprocessed row (FAILED or RECEIVED, whatever its age).",
        )
        parser.add_argument(
            "--id",
            dest="ids",
            type=int,
            action="append",
            help="Only this StripeEvent row id (repeatable). Reprocesses it even when it was "
            "PROCESSED or IGNORED.",
        )

    def handle(self, *args, ids=None, all=False, **options):
        if ids:
            found = stripe_events_for_replay(ids=ids)
            missing = sorted(set(ids) - set(found))
            if missing:
                raise CommandError(f"No StripeEvent rows with id {missing}.")
            for row_id in found:
                stripe_event_reset(event_row_id=row_id)
        else:
            found = stripe_events_for_replay(include_all=all)
        ok = failed = 0
        for row_id in found:
            row = StripeEvent.objects.get(pk=row_id)
            try:
                outcome = stripe_event_process(event_row_id=row_id)
            except Exception as exc:  # recorded on the row; go on with the rest
                failed += 1
                self.stderr.write(f"#{row_id} {row.type} {row.stripe_event_id}: FAILED {exc}")
                continue
            ok += 1
            self.stdout.write(f"#{row_id} {row.type} {row.stripe_event_id}: {outcome}")
        self.stdout.write(f"Replayed {len(found)} event(s): {ok} done, {failed} failed.")
        if failed:
            raise CommandError(f"{failed} event(s) still failing; see StripeEvent.last_error.")
