"""Writes for payments: webhook intake and processing, Connect onboarding and sync.

The ledger (`payments.ledger`) and payouts (`payments.payouts`) live beside this module.
Order-side effects of an event go through `orders.services` (imported where used).
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from marketplace.exceptions import ApplicationError
from marketplace.models import User
from payments.gateway import (
    AccountState,
    AccountUnavailable,
    GatewayError,
    get_gateway,
    stripe_key,
)
from payments.models import SellerStripeAccount, StripeEvent
from payments.readiness import seller_payment_ready_refresh

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------
# Webhook intake: store raw, answer at once, process later (STYLE.md §9)
# ------------------------------------------------------------------------------
# When a publish fails (broker down or hung), intake stops trying for this long in this
# process: each delivery is still stored and answered at once, and the requeue sweep
# (`stripe_events_requeue_stale_task`, STRIPE_EVENT_REQUEUE_*) queues the rows once the
# broker is back. Without it every delivery would wait out the broker's timeout.
ENQUEUE_PAUSE_SECONDS = 30.0
_enqueue_paused_until = 0.0


def _enqueue(event_row_id: int) -> bool:
    """Publish the processing task once, without kombu's publish retries. Returns whether
    it was published. Never raises: the stored row is the durable record."""
    global _enqueue_paused_until
    from payments.tasks import stripe_event_process_task

    if stripe_event_process_task.app.conf.task_always_eager:
        # No broker (embedded default, tests): the task runs here; a processing error
        # is the on_commit callback's to log (robust), not a broker outage.
        stripe_event_process_task.delay(event_row_id)
        return True
    if time.monotonic() < _enqueue_paused_until:
        return False
    try:
        stripe_event_process_task.apply_async((event_row_id,), retry=False)
    except Exception as exc:  # kombu/redis raise many types; all mean "not published"
        _enqueue_paused_until = time.monotonic() + ENQUEUE_PAUSE_SECONDS
        logger.warning(
            "stripe event row %s stored but not queued (broker: %s); intake stops "
            "publishing for %.0f s, the requeue sweep will queue it",
            event_row_id,
            exc,
            ENQUEUE_PAUSE_SECONDS,
        )
        return False
    return True


def _stripe_event_insert(row: StripeEvent) -> int | None:
    """INSERT the row unless its Stripe event id is stored already, in one statement
    (ON CONFLICT DO NOTHING, PostgreSQL and SQLite alike). Returns the new id, or None for
    a repeat. One round trip instead of get_or_create's six (BEGIN, SELECT, SAVEPOINT,
    INSERT, RELEASE, COMMIT): the intake's cost is mostly its statements and the commit."""
    fields = [f for f in StripeEvent._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    values = [f.get_db_prep_save(f.pre_save(row, add=True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(StripeEvent._meta.db_table)} ({columns}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(fields))}) "
            f"ON CONFLICT ({quote('stripe_event_id')}) DO NOTHING RETURNING {quote('id')}",
            values,
        )
        inserted = cursor.fetchone()
    return inserted[0] if inserted else None


def stripe_event_receive(*, event: dict, endpoint: str) -> tuple[StripeEvent, bool]:
    """Store a verified event once (unique on Stripe's event id) and queue its processing
    after commit. Returns (row, created). A repeated delivery stores nothing new; it is
    queued again only while the row is not processed yet (the task is a no-op then)."""
    row = StripeEvent(
        stripe_event_id=event["id"],
        type=event["type"][:100],
        endpoint=endpoint,
        account=event.get("account") or "",
        livemode=bool(event.get("livemode")),
        payload=event,
    )
    new_id = _stripe_event_insert(row)
    created = new_id is not None
    if created:
        row.pk = new_id
    else:
        row = StripeEvent.objects.get(stripe_event_id=event["id"])
    if created or row.status in (StripeEvent.Status.RECEIVED, StripeEvent.Status.FAILED):
        # (A lambda, not functools.partial: Django logs a robust callback's __qualname__.)
        # robust: a broker outage (or, with eager tasks, a processing error) must not
        # turn the 200 into a 500; the row stays RECEIVED/FAILED for the replay. Outside
        # a transaction (the webhook view) it runs now: the INSERT committed by itself.
        row_id = row.pk
        transaction.on_commit(lambda: _enqueue(row_id), robust=True)
    return row, created


# ------------------------------------------------------------------------------
# Processing
# ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    status: str  # StripeEvent.Status.PROCESSED or IGNORED
    note: str


def _processed(note: str) -> Outcome:
    return Outcome(StripeEvent.Status.PROCESSED, note)


def _ignored(note: str) -> Outcome:
    return Outcome(StripeEvent.Status.IGNORED, note)


def _order_for_session(order_id: int | None, session_id: str) -> tuple[bool, str]:
    """Is `session_id` the live session of order `order_id`? (ok, reason if not)."""
    from orders.models import Order

    if order_id is None:
        return False, f"session {session_id} carries no order id"
    order = Order.objects.filter(pk=order_id).values("stripe_checkout_session_id").first()
    if order is None:
        return False, f"order {order_id} does not exist"
    recorded = order["stripe_checkout_session_id"]
    if recorded and recorded != session_id:
        return False, f"order {order_id} now has session {recorded}, not {session_id}"
    return True, ""


def _handle_session_paid(session_id: str, *, require_paid: bool) -> Outcome:
    from payments.checkout import order_payment_confirm

    # Re-fetch: the payload may be stale or out of order; Stripe's current state decides.
    state = get_gateway().retrieve_checkout_session(session_id)
    if state.order_id is None:
        return _ignored(f"session {session_id} carries no order id")
    if state.payment_status != "paid":
        if require_paid:
            return _ignored(f"session {session_id} is {state.payment_status}, not paid")
        return _processed(
            f"order {state.order_id}: checkout complete, payment {state.payment_status} "
            "(awaiting an asynchronous payment)"
        )
    # The confirmation checks the session belongs to the order and refuses otherwise:
    # a paid session we cannot match must stay visible (FAILED), never be dropped. An
    # order we had given up on is reinstated, or its payment refunded — never kept.
    order = order_payment_confirm(state=state)
    if order.status not in order.WAS_PAID:
        return _processed(f"order {order.pk} was {order.status.lower()}: payment refunded")
    return _processed(f"order {order.pk} paid")


def _checkout_session_completed(row: StripeEvent, obj: dict) -> Outcome:
    return _handle_session_paid(obj["id"], require_paid=False)


def _checkout_session_async_payment_succeeded(row: StripeEvent, obj: dict) -> Outcome:
    return _handle_session_paid(obj["id"], require_paid=True)


def _checkout_session_async_payment_failed(row: StripeEvent, obj: dict) -> Outcome:
    from orders.services import order_payment_failed

    state = get_gateway().retrieve_checkout_session(obj["id"])
    if state.payment_status == "paid":
        return _ignored(f"session {state.id} is paid after all; failure is stale")
    ok, why = _order_for_session(state.order_id, state.id)
    if not ok:
        return _ignored(why)
    order_payment_failed(
        order_id=state.order_id, reason="The payment did not go through (bank payment failed)."
    )
    return _processed(f"order {state.order_id} payment failed")


def _checkout_session_expired(row: StripeEvent, obj: dict) -> Outcome:
    from orders.services import order_checkout_expired

    state = get_gateway().retrieve_checkout_session(obj["id"])
    if state.status != "expired":
        return _ignored(f"session {state.id} is {state.status}, not expired")
    ok, why = _order_for_session(state.order_id, state.id)
    if not ok:
        return _ignored(why)
    order_checkout_expired(order_id=state.order_id)
    return _processed(f"order {state.order_id} checkout expired")


def _payment_intent_payment_failed(row: StripeEvent, obj: dict) -> Outcome:
    """A declined attempt; the session stays open. Timeline note only (no money moves),
    so the payload is enough here."""
    from orders.models import Order
    from orders.services import order_note_payment_attempt_failed

    try:
        order_id = int((obj.get("metadata") or {}).get("order_id"))
    except (TypeError, ValueError):
        return _ignored("payment intent carries no order id")
    if not Order.objects.filter(pk=order_id).exists():
        return _ignored(f"order {order_id} does not exist")
    error = obj.get("last_payment_error") or {}
    reason = str(error.get("message") or "A payment attempt failed.")
    order_note_payment_attempt_failed(order_id=order_id, reason=reason)
    return _processed(f"order {order_id}: payment attempt failed")


def _account_updated(row: StripeEvent, obj: dict) -> Outcome:
    account_id = obj.get("id") or row.account
    if not SellerStripeAccount.objects.filter(stripe_account_id=account_id).exists():
        return _ignored(f"account {account_id} is not one of our sellers'")
    account = seller_stripe_account_sync(account_id=account_id)
    return _processed(f"{account_id} synced ({'ready' if account.is_ready else 'not ready'})")


def _account_application_deauthorized(row: StripeEvent, obj: dict) -> Outcome:
    """The seller disconnected our platform from their Stripe account (Connect)."""
    account_id = row.account
    if not SellerStripeAccount.objects.filter(stripe_account_id=account_id).exists():
        return _ignored(f"account {account_id} is not one of our sellers'")
    seller_stripe_account_disconnect(
        account_id=account_id, reason="The seller disconnected Home Craft 3D in Stripe."
    )
    return _processed(f"{account_id} disconnected")


def _order_id_for_charge(obj: dict) -> int | None:
    """A charge, refund or dispute payload's order (by payment intent, else charge)."""
    from payments.selectors import order_for_charge

    def id_of(value) -> str:
        return (value.get("id") or "") if isinstance(value, dict) else (value or "")

    charge = obj.get("charge") or (obj.get("id") if obj.get("object") == "charge" else "")
    order = order_for_charge(
        payment_intent_id=id_of(obj.get("payment_intent")), charge_id=id_of(charge)
    )
    return order.pk if order is not None else None


def _refunds_changed(row: StripeEvent, obj: dict) -> Outcome:
    """`charge.refunded` (a charge) or `refund.created` / `refund.updated` (a refund):
    re-read every refund of the payment from Stripe and post what succeeded."""
    from payments.payment_refunds import payment_refunds_sync

    order_id = _order_id_for_charge(obj)
    if order_id is None:
        return _ignored("no order has this charge")
    refunds = payment_refunds_sync(order_id=order_id)
    return _processed(f"order {order_id}: {len(refunds)} refund(s) in step with Stripe")


def _dispute_changed(row: StripeEvent, obj: dict) -> Outcome:
    """`charge.dispute.*`: re-fetch the dispute and mirror it (payments.disputes)."""
    from payments.disputes import dispute_sync

    if not obj.get("id"):
        return _ignored("dispute without an id")
    state = get_gateway().retrieve_dispute(obj["id"])
    if (
        _order_id_for_charge({"payment_intent": state.payment_intent_id, "charge": state.charge_id})
        is None
    ):
        return _ignored(f"dispute {state.id}: no order has this charge")
    dispute = dispute_sync(state=state)
    return _processed(
        f"dispute {dispute.stripe_dispute_id} on order {dispute.order_id}: {dispute.status}"
    )


def _transfer_reversed(row: StripeEvent, obj: dict) -> Outcome:
    """Our reversals are recorded from Stripe's answer when we make them; this event is
    the echo. A reversal made in the dashboard is not ours to post: staff see it."""
    from payments.models import SellerTransferReversal

    ours = {r["id"] for r in ((obj.get("reversals") or {}).get("data") or []) if r.get("id")}
    known = set(
        SellerTransferReversal.objects.filter(stripe_reversal_id__in=ours).values_list(
            "stripe_reversal_id", flat=True
        )
    )
    unknown = sorted(ours - known)
    if unknown:
        logger.warning("transfer %s reversed outside the marketplace: %s", obj.get("id"), unknown)
        return _processed(f"reversal(s) made outside the marketplace: {', '.join(unknown)}")
    return _processed("reversals already recorded")


HANDLERS = {
    "charge.refunded": _refunds_changed,
    "refund.created": _refunds_changed,
    "refund.updated": _refunds_changed,
    "charge.dispute.created": _dispute_changed,
    "charge.dispute.updated": _dispute_changed,
    "charge.dispute.closed": _dispute_changed,
    "charge.dispute.funds_withdrawn": _dispute_changed,
    "charge.dispute.funds_reinstated": _dispute_changed,
    "transfer.reversed": _transfer_reversed,
    "account.application.deauthorized": _account_application_deauthorized,
    "checkout.session.completed": _checkout_session_completed,
    "checkout.session.async_payment_succeeded": _checkout_session_async_payment_succeeded,
    "checkout.session.async_payment_failed": _checkout_session_async_payment_failed,
    "checkout.session.expired": _checkout_session_expired,
    "payment_intent.payment_failed": _payment_intent_payment_failed,
    "account.updated": _account_updated,
}


def _dispatch(row: StripeEvent) -> Outcome:
    obj = ((row.payload or {}).get("data") or {}).get("object") or {}
    handler = HANDLERS.get(row.type)
    if handler is not None:
        return handler(row, obj)
    return _ignored("no handler for this event type")


def _error_text(exc: BaseException) -> str:
    tail = "".join(traceback.format_exception(exc, limit=-3))
    return f"{type(exc).__name__}: {exc}\n\n{tail}"[:4000]


def stripe_event_process(*, event_row_id: int) -> str:
    """Process one stored event, once. Returns what happened, for logs and ops.

    Locks the row; a PROCESSED or IGNORED row is left alone (duplicate task, replay).
    The handler's writes and the status commit together. On an exception the row is
    marked FAILED with the error in its own transaction and the exception re-raised,
    so the task retries (recoverable errors) or stays FAILED for `stripe_events_replay`.
    """
    try:
        with transaction.atomic():
            row = StripeEvent.objects.select_for_update().get(pk=event_row_id)
            if row.status in (StripeEvent.Status.PROCESSED, StripeEvent.Status.IGNORED):
                return f"{row.status}: already done"
            row.attempts += 1
            outcome = _dispatch(row)
            row.status = outcome.status
            row.processed_at = timezone.now()
            row.last_error = ""
            row.save(update_fields=["status", "processed_at", "attempts", "last_error"])
    except Exception as exc:
        with transaction.atomic():
            failed = StripeEvent.objects.select_for_update().filter(pk=event_row_id).first()
            if failed is not None:
                failed.attempts += 1
                failed.status = StripeEvent.Status.FAILED
                failed.last_error = _error_text(exc)
                failed.save(update_fields=["status", "attempts", "last_error"])
        logger.warning("stripe event row %s failed: %s", event_row_id, exc)
        raise
    logger.info("stripe event %s %s: %s", row.stripe_event_id, row.type, outcome.note)
    return f"{outcome.status}: {outcome.note}"


def stripe_events_for_replay(
    *,
    ids: list[int] | None = None,
    include_all: bool = False,
    include_failed: bool = True,
    stale_minutes: float = 10,
) -> list[int]:
    """Which rows a replay should process: the given ids; else every FAILED row and
    every RECEIVED row older than `stale_minutes` (its task was lost, e.g. the broker was
    down), or every RECEIVED row whatever its age with `include_all`."""
    if ids:
        return list(
            StripeEvent.objects.filter(pk__in=ids).order_by("pk").values_list("pk", flat=True)
        )
    received = StripeEvent.objects.filter(status=StripeEvent.Status.RECEIVED)
    if not include_all:
        cutoff = timezone.now() - timedelta(minutes=stale_minutes)
        received = received.filter(received_at__lte=cutoff)
    rows = received
    if include_failed:
        rows = rows | StripeEvent.objects.filter(status=StripeEvent.Status.FAILED)
    return list(rows.order_by("received_at", "pk").values_list("pk", flat=True))


def stripe_event_reset(*, event_row_id: int) -> None:
    """Make a PROCESSED/IGNORED row processable again (ops: after fixing a handler).
    Handlers are idempotent, so reprocessing cannot apply an effect twice."""
    StripeEvent.objects.filter(pk=event_row_id).update(
        status=StripeEvent.Status.RECEIVED, processed_at=None
    )


# ------------------------------------------------------------------------------
# Connect Express onboarding
# ------------------------------------------------------------------------------
def connect_account_key(seller_id: int) -> str:
    return f"connect-account-seller-{seller_id}"


def seller_stripe_account_start(*, seller: User, refresh_url: str, return_url: str) -> str:
    """Create the seller's Express account once, then return a fresh onboarding link.

    Reuses the existing `SellerStripeAccount`. The idempotency key is the seller's, so
    two racing requests get the same Stripe account, and the unique seller row keeps
    one record of it. `refresh_url`/`return_url` are absolute (Stripe redirects there).
    """
    gateway = get_gateway()
    account = SellerStripeAccount.objects.filter(seller=seller).first()
    if account is None:
        account_id = gateway.create_express_account(
            email=seller.email,
            seller_id=seller.pk,
            idempotency_key=stripe_key(connect_account_key(seller.pk)),
        )
        account, _ = SellerStripeAccount.objects.get_or_create(
            seller=seller, defaults={"stripe_account_id": account_id}
        )
    elif account.disconnected_at is not None:
        # They disconnected us: connecting again means a new Express account.
        stamp = int(account.disconnected_at.timestamp() * 1_000_000)
        account_id = gateway.create_express_account(
            email=seller.email,
            seller_id=seller.pk,
            idempotency_key=stripe_key(f"{connect_account_key(seller.pk)}-after-{stamp}"),
        )
        account = seller_stripe_account_replace(seller=seller, account_id=account_id)
    return gateway.create_account_link(
        account_id=account.stripe_account_id, refresh_url=refresh_url, return_url=return_url
    )


@transaction.atomic
def seller_stripe_account_replace(*, seller: User, account_id: str) -> SellerStripeAccount:
    """Point a disconnected seller at their new connected account (not ready yet)."""
    account = SellerStripeAccount.objects.select_for_update().get(seller=seller)
    if account.stripe_account_id != account_id:
        account.stripe_account_id = account_id
        account.charges_enabled = account.payouts_enabled = account.details_submitted = False
        account.requirements_currently_due = []
        account.disconnected_at = None
        account.disconnect_reason = ""
        account.full_clean()
        account.save()
        seller_payment_ready_refresh(seller_id=account.seller_id)
    return account


def seller_stripe_account_sync(
    *, account_id: str, state: AccountState | None = None
) -> SellerStripeAccount:
    """Mirror Stripe's view of a connected account (fetched when `state` is None).

    Idempotent: writes only when something changed. An account Stripe no longer returns
    to us is disconnected (never ready again). A seller who becomes ready gets their
    FAILED transfers attempted again after commit.
    """
    if state is None:
        try:
            state = get_gateway().retrieve_account(account_id)
        except AccountUnavailable as exc:
            return seller_stripe_account_disconnect(account_id=account_id, reason=exc.message)
    with transaction.atomic():
        account = (
            SellerStripeAccount.objects.select_for_update()
            .filter(stripe_account_id=account_id)
            .first()
        )
        if account is None:
            raise ApplicationError(f"No seller has the connected account {account_id}.")
        was_ready = account.is_ready
        values = {
            "charges_enabled": state.charges_enabled,
            "payouts_enabled": state.payouts_enabled,
            "details_submitted": state.details_submitted,
            "requirements_currently_due": list(state.requirements_due),
        }
        changed = [name for name, value in values.items() if getattr(account, name) != value]
        if changed:
            for name in changed:
                setattr(account, name, values[name])
            account.full_clean()
            account.save(update_fields=[*changed, "updated_at"])
        seller_payment_ready_refresh(seller_id=account.seller_id)
        _readiness_changed(account, was_ready=was_ready)
    return account


def _readiness_changed(account: SellerStripeAccount, *, was_ready: bool) -> None:
    """Inside the account's transaction: tell the rest of the marketplace, and pay what
    waited for this seller once they are ready again."""
    if account.is_ready and not was_ready:
        seller_id = account.seller_id
        transaction.on_commit(lambda: _retry_seller_transfers(seller_id), robust=True)


def _retry_seller_transfers(seller_id: int) -> None:
    from payments.tasks import seller_transfers_retry_task

    seller_transfers_retry_task.delay(seller_id)


def seller_stripe_account_disconnect(*, account_id: str, reason: str) -> SellerStripeAccount:
    """The account can no longer be paid (deauthorized, or Stripe no longer returns it):
    it stops being ready, so the seller's paid listings stop being buyable; the seller
    and staff are emailed once. Idempotent."""
    with transaction.atomic():
        account = (
            SellerStripeAccount.objects.select_for_update()
            .filter(stripe_account_id=account_id)
            .first()
        )
        if account is None:
            raise ApplicationError(f"No seller has the connected account {account_id}.")
        if account.disconnected_at is not None:
            return account
        was_ready = account.is_ready
        account.disconnected_at = timezone.now()
        account.disconnect_reason = reason[:300]
        account.save(update_fields=["disconnected_at", "disconnect_reason", "updated_at"])
        seller_payment_ready_refresh(seller_id=account.seller_id)
        _readiness_changed(account, was_ready=was_ready)
        account_pk = account.pk
        transaction.on_commit(lambda: _email_disconnected(account_pk), robust=True)
    logger.warning("connected account %s disconnected: %s", account_id, reason)
    return account


def _email_disconnected(account_pk: int) -> None:
    from payments.tasks import seller_disconnected_email_task

    seller_disconnected_email_task.delay(account_pk)


def seller_disconnected_emails_send(*, account_pk: int) -> None:
    """Tell the seller (how to reconnect) and every active staff member (keyed, once)."""
    from messaging.services import email_send

    account = SellerStripeAccount.objects.select_related("seller").get(pk=account_pk)
    context = {"account": account, "seller": account.seller}
    email_send(
        key=f"stripe-disconnected-{account.stripe_account_id}-seller",
        to=account.seller.email,
        template="payments/emails/account_disconnected",
        context={**context, "notification_url": reverse("payments:connect")},
    )
    for staff in User.objects.filter(is_staff=True, is_active=True).order_by("pk"):
        email_send(
            key=f"stripe-disconnected-{account.stripe_account_id}-staff-{staff.pk}",
            to=staff.email,
            template="payments/emails/account_disconnected_staff",
            context=context,
        )


def seller_stripe_account_dashboard_link(*, seller: User) -> str:
    """A one-time link to the seller's Stripe Express dashboard."""
    account = SellerStripeAccount.objects.filter(seller=seller).first()
    if account is None:
        raise ApplicationError("Set up payouts first.")
    try:
        return get_gateway().create_login_link(account.stripe_account_id)
    except GatewayError as exc:
        raise ApplicationError(exc.message) from exc


@dataclass(frozen=True)
class SyncSummary:
    total: int
    ready: int
    not_ready: int
    changed_to_ready: int
    errors: list[str]


def seller_stripe_accounts_sync_all() -> SyncSummary:
    """Re-sync every connected account (periodic job and `sync_connect_accounts`): the
    safety net for a missed or undeliverable `account.updated`."""
    ready = not_ready = became_ready = 0
    errors: list[str] = []
    rows = list(
        SellerStripeAccount.objects.filter(disconnected_at__isnull=True)
        .order_by("pk")
        .values_list("stripe_account_id", flat=True)
    )
    from payments.selectors import READY

    was_ready = set(
        SellerStripeAccount.objects.filter(READY).values_list("stripe_account_id", flat=True)
    )
    for account_id in rows:
        try:
            account = seller_stripe_account_sync(account_id=account_id)
        except (GatewayError, ApplicationError) as exc:
            errors.append(f"{account_id}: {getattr(exc, 'message', exc)}")
            continue
        if account.is_ready:
            ready += 1
            became_ready += account_id not in was_ready
        else:
            not_ready += 1
    return SyncSummary(len(rows), ready, not_ready, became_ready, errors)
