"""Staff reprocessing of one stored Stripe event: guarded, audited, idempotent.

The one path for a person (Admin Ops page, the admin action, `manage.py
reprocess_stripe_event`) to push an event through the same processing the webhook task
uses (`payments.services.stripe_event_process`). Unlike `stripe_events_replay --id`, it
never resets a row that is already done: a PROCESSED or IGNORED event is left exactly as
it is and the answer says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from marketplace.audit import staff_action
from marketplace.exceptions import ApplicationError
from payments.models import StripeEvent
from payments.services import stripe_event_process

ACTION = "stripe_event.reprocess"
DONE = (StripeEvent.Status.PROCESSED, StripeEvent.Status.IGNORED)


@dataclass(frozen=True)
class ReprocessResult:
    changed: bool  # the event was processed now (its status moved)
    status: str  # the row's status afterwards
    message: str  # what to tell the person who asked


def stripe_event_lookup(*, ident: str) -> StripeEvent | None:
    """A stored event by Stripe's id (`evt_…`) or by our row id (digits)."""
    ident = (ident or "").strip()
    if not ident:
        return None
    row = StripeEvent.objects.filter(stripe_event_id=ident).first()
    if row is None and ident.isdigit():
        row = StripeEvent.objects.filter(pk=int(ident)).first()
    return row


def stripe_event_reprocess(*, actor, event: StripeEvent, reason: str) -> ReprocessResult:
    """Staff member `actor` asks for `event` to be processed again because of `reason`.

    Guarantees:
    - only staff, and only with a non-blank reason (ApplicationError otherwise; nothing
      is written);
    - a PROCESSED or IGNORED event changes nothing (no reset, no handler run) and the
      result says so;
    - a RECEIVED or FAILED event is processed once, under the row lock the webhook task
      takes, so a task running at the same moment cannot process it twice;
    - every request is written to the staff action log (`stripe_event.reprocess`) with
      the status before and after and the error, if any.
    """
    reason = (reason or "").strip()
    if actor is None or not getattr(actor, "is_staff", False):
        raise ApplicationError("Only staff may reprocess Stripe events.")
    if not reason:
        raise ApplicationError("Say why you are reprocessing this event.")
    event.refresh_from_db()
    before = {"status": event.status, "attempts": event.attempts}
    error = ""
    if event.status in DONE:
        changed = False
        done = (
            "processed"
            if event.status == StripeEvent.Status.PROCESSED
            else "handled (stored only: no handler acts on it)"
        )
        message = f"Event {event.stripe_event_id} was already {done}: nothing changed."
    else:
        try:
            outcome = stripe_event_process(event_row_id=event.pk)
        except Exception as exc:  # stored on the row by stripe_event_process
            error = f"{type(exc).__name__}: {exc}"[:500]
        event.refresh_from_db()
        changed = event.status in DONE
        if error:
            message = f"Event {event.stripe_event_id} failed again: {error}"
        elif changed:
            message = f"Event {event.stripe_event_id} processed: {outcome}"
        else:  # another process held it and left it undone (should not happen)
            message = f"Event {event.stripe_event_id} is {event.get_status_display()}."
    after = {"status": event.status, "attempts": event.attempts}
    if error:
        after["error"] = error
    with transaction.atomic():
        staff_action(
            actor=actor, action=ACTION, target=event, reason=reason, before=before, after=after
        )
    return ReprocessResult(changed=changed, status=event.status, message=message)
