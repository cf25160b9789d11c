"""Everything a paid order sets off, made durable.

`order_paid_followups` is queued after the PAID commit (and again on every replay of the
payment event). If that task is lost — a broker hiccup, a worker killed between commit
and publish — `orders_followups_complete` (beat, and `complete_paid_orders`) finds PAID
orders not stamped `followups_done_at` and runs them again. Every step is idempotent.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from orders.models import Order
from orders.services import order_followups_done, order_record_charge
from payments.gateway import GatewayError, get_gateway
from payments.models import PlatformLedgerEntry, SellerTransfer
from payments.payouts import order_payout, transfer_attempt

logger = logging.getLogger(__name__)

# Give the task queued at commit time this long before the sweeper steps in.
FOLLOWUPS_GRACE = timedelta(minutes=5)


def _refresh_charge(order: Order) -> Order:
    """Fill what the payment event did not carry (charge id, amount, Stripe's fee)."""
    from payments.checkout import order_processing_fee_post

    missing_fee = not PlatformLedgerEntry.objects.filter(
        order=order, reason=PlatformLedgerEntry.Reason.PROCESSING_FEE
    ).exists()
    if not order.stripe_checkout_session_id or not (
        missing_fee or not order.stripe_charge_id or order.amount_charged_cents is None
    ):
        return order
    try:
        state = get_gateway().retrieve_checkout_session(order.stripe_checkout_session_id)
    except GatewayError as exc:
        logger.warning("order %s: could not refresh the charge: %s", order.pk, exc)
        return order
    order = order_record_charge(
        order_id=order.pk,
        checkout_session_id=state.id,
        payment_intent_id=state.payment_intent_id,
        charge_id=state.charge_id,
        amount_charged_cents=state.amount_total,
        charged_currency=state.currency,
    )
    order_processing_fee_post(order=order, state=state)
    return order


def order_paid_followups(*, order_id: int) -> bool:
    """After payment: the charge details, each seller's SALE and transfer, the platform
    fee, the receipt and sale emails, the review request. Safe to run twice.

    Returns True when everything is done (the order is then stamped); False leaves it
    for the sweeper: emails that could not be recorded, a charge Stripe has not reported
    yet. An email recorded and queued (EmailLog PENDING, even FAILED) counts as done: its
    delivery belongs to messaging's retries (`retry_failed_emails`), not to this order.
    Transfers waiting on an outage or a seller count as done here: they have their own
    schedule (`transfers_retry_due`) and stay visible on their rows.
    """
    order = Order.objects.get(pk=order_id)
    if order.status not in Order.WAS_PAID:
        return False
    if order.total_cents:
        order = _refresh_charge(order)
    order_payout(order_id=order.pk)
    for transfer_id in SellerTransfer.objects.filter(
        order=order, status=SellerTransfer.Status.PENDING
    ).values_list("pk", flat=True):
        transfer_attempt(transfer_id=transfer_id)  # due ones only; a no-op otherwise
    done = True
    try:
        from orders.emails import order_send_paid_emails

        order_send_paid_emails(order_id=order.pk)
    except Exception:  # a bug before the emails were recorded: run again by the sweeper
        logger.warning("order %s: paid emails not recorded", order.pk, exc_info=True)
        done = False
    try:
        from catalog.reviews import review_request_schedule

        review_request_schedule(order_id=order.pk)
    except Exception:
        logger.warning("order %s: review request not scheduled", order.pk, exc_info=True)
        done = False
    if order.total_cents and not order.stripe_charge_id:
        done = False
    if done:
        order_followups_done(order_id=order.pk)
    return done


def orders_followups_due(*, limit: int = 200) -> list[int]:
    """PAID orders whose follow-ups never completed, oldest first (set-based)."""
    cutoff = timezone.now() - FOLLOWUPS_GRACE
    return list(
        Order.objects.filter(
            status__in=Order.WAS_PAID, followups_done_at__isnull=True, paid_at__lt=cutoff
        )
        .order_by("paid_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def orders_followups_complete(*, limit: int = 200) -> int:
    """Periodic: complete what lost tasks left undone. Returns how many orders it ran."""
    ids = orders_followups_due(limit=limit)
    for order_id in ids:
        try:
            order_paid_followups(order_id=order_id)
        except Exception:  # one order's bug must not stop the others
            logger.exception("order %s: follow-ups failed", order_id)
    return len(ids)
