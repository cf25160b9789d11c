"""Taking payment for an order: the Checkout Session, the payment's confirmation, and
the sweep of checkouts nobody finished.

The rule this module keeps (docs/LEDGER.md): money Stripe captured belongs to a PAID
order or is refunded. A payment confirmed for an order we had given up on makes it PAID
again when its stock can still be reserved; otherwise the charge is refunded in full.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from marketplace.exceptions import ApplicationError
from orders.models import Order
from orders.services import (
    order_cancel,
    order_checkout_expired,
    order_needs_address,
    order_payment_succeeded,
    order_record_charge,
    order_record_shipping_address,
)
from payments.gateway import GatewayError, LineItem, SessionState, get_gateway, stripe_key
from payments.ledger import platform_post
from payments.models import PaymentRefund, PlatformLedgerEntry

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckoutRedirect:
    order: Order
    url: str


def checkout_key(order_id: int) -> str:
    return f"checkout-order-{order_id}"


def checkout_expires_at(order: Order) -> int:
    """When the order's Checkout Session expires (unix time): CHECKOUT_SESSION_MINUTES
    after the order was made (Stripe refuses less than 30 minutes from now, hence the
    floor and the minute of slack). Derived from the order, so a retried create sends
    the same value under the same idempotency key."""
    minutes = max(30, settings.CHECKOUT_SESSION_MINUTES)
    return int((order.created_at + timedelta(minutes=minutes, seconds=60)).timestamp())


def checkout_start(*, order: Order, success_url: str, cancel_url: str) -> CheckoutRedirect:
    """Send a PENDING order to payment. A free order is paid at once, without Stripe.

    The Checkout Session is created outside any transaction (a network call) with the
    idempotency key `checkout-order-<id>` (prefixed), so a retried request gets the same
    session. If the gateway is down, the order is cancelled and its stock released.
    """
    if order.total_cents == 0:
        with transaction.atomic():
            order = order_payment_succeeded(
                order_id=order.pk, checkout_session_id="", payment_intent_id="", charge_id=""
            )
            _queue_followups(order.pk)
        return CheckoutRedirect(order=order, url=success_url)
    items = list(order.items.all())
    line_items = [
        LineItem(
            name=i.title,
            unit_amount_cents=i.unit_price_cents,
            quantity=i.quantity,
            currency=order.currency,
        )
        for i in items
    ]
    if order.shipping_cents:
        line_items.append(
            LineItem(
                name="Shipping",
                unit_amount_cents=order.shipping_cents,
                quantity=1,
                currency=order.currency,
            )
        )
    try:
        session = get_gateway().create_checkout_session(
            order_id=order.pk,
            email=order.email,
            line_items=line_items,
            success_url=success_url,
            cancel_url=cancel_url,
            idempotency_key=stripe_key(checkout_key(order.pk)),
            # A short hold: an unpaid checkout gives its stock back after this long.
            expires_at=checkout_expires_at(order),
            # Printed items: collect an address, only in the country shipping was priced for.
            ship_to_country=order.ship_to_country,
        )
    except GatewayError as exc:
        logger.warning("checkout session for order %s failed: %s", order.pk, exc)
        order_cancel(order_id=order.pk, reason="Payment provider unavailable")
        raise ApplicationError(
            "We could not reach our payment provider. Nothing was charged; please try again."
        ) from exc
    Order.objects.filter(pk=order.pk).update(stripe_checkout_session_id=session.id)
    order.stripe_checkout_session_id = session.id
    return CheckoutRedirect(order=order, url=session.url)


def _queue_followups(order_id: int) -> None:
    from payments.tasks import order_paid_followups_task

    # robust: a lost publish is completed by the follow-up sweeper (payments.followups).
    transaction.on_commit(lambda: order_paid_followups_task.delay(order_id), robust=True)


def _queue_refund(refund_id: int) -> None:
    from payments.tasks import payment_refund_attempt_task

    transaction.on_commit(lambda: payment_refund_attempt_task.delay(refund_id), robust=True)


def processing_fee_key(order_id: int) -> str:
    return f"processing-fee-order-{order_id}"


def late_payment_refund_key(order_id: int) -> str:
    return f"late-payment-order-{order_id}"


def order_processing_fee_post(*, order: Order, state: SessionState) -> None:
    """The platform's cost of the charge (Stripe's fee, from the balance transaction),
    once per order, when Stripe has reported it."""
    if state.processing_fee_cents:
        platform_post(
            order=order,
            amount_cents=-state.processing_fee_cents,
            currency=state.processing_fee_currency or order.currency,
            reason=PlatformLedgerEntry.Reason.PROCESSING_FEE,
            idempotency_key=processing_fee_key(order.pk),
            stripe_object_id=state.charge_id,
            description=f"Stripe fee on order {order.pk}",
        )


@transaction.atomic
def order_payment_confirm(*, state: SessionState) -> Order:
    """Stripe says this session is paid: make its order PAID, or refund the payment.

    Idempotent; safe under replays and reordered events. Records the charge on the
    order whatever happens. A PAID order gets its follow-ups queued after commit every
    time (so replaying the event repairs what a lost task left undone). An order that
    can no longer be honoured gets one PaymentRefund for the whole charge.
    """
    if state.order_id is None:
        raise ApplicationError(f"Session {state.id} carries no order id.")
    order = order_record_charge(
        order_id=state.order_id,
        checkout_session_id=state.id,
        payment_intent_id=state.payment_intent_id,
        charge_id=state.charge_id,
        amount_charged_cents=state.amount_total,
        charged_currency=state.currency,
    )
    # Printed items: the address collected at payment, copied once (never changed after).
    order = order_record_shipping_address(order_id=order.pk, address=state.shipping_address)
    if order.status not in Order.WAS_PAID:
        # Once we decided to give this payment back, a replayed event must not reinstate
        # the order (and pay its sellers) while the buyer gets their money back too.
        given_back = PaymentRefund.objects.filter(
            idempotency_key=late_payment_refund_key(order.pk)
        ).first()
        if given_back is not None:
            if given_back.status == PaymentRefund.Status.PENDING:
                _queue_refund(given_back.pk)
            return order
    order = order_payment_succeeded(
        order_id=order.pk,
        checkout_session_id=state.id,
        payment_intent_id=state.payment_intent_id,
        charge_id=state.charge_id,
    )
    order_processing_fee_post(order=order, state=state)
    if order.status in Order.WAS_PAID:
        _queue_followups(order.pk)
        return order
    refund = order_late_payment_refund_open(
        order=order,
        reason=(
            PaymentRefund.Reason.NO_ADDRESS
            if order_needs_address(order)
            else PaymentRefund.Reason.LATE_PAYMENT
        ),
    )
    if refund.status == PaymentRefund.Status.PENDING:
        _queue_refund(refund.pk)
    return order


def order_late_payment_refund_open(
    *, order: Order, reason: str = PaymentRefund.Reason.LATE_PAYMENT
) -> PaymentRefund:
    """The one full refund of a payment on an order that cannot be honoured (idempotent:
    keyed by the order; `reason` says why: a late payment, or no shipping address)."""
    amount = order.amount_charged_cents or order.total_cents
    refund, created = PaymentRefund.objects.get_or_create(
        idempotency_key=late_payment_refund_key(order.pk),
        defaults={
            "order": order,
            "reason": reason,
            "amount_cents": amount,
            "currency": order.charged_currency or order.currency,
            "payment_intent_id": order.stripe_payment_intent_id,
            "next_attempt_at": timezone.now(),
        },
    )
    if created:
        logger.warning(
            "order %s: payment %s arrived for a %s order; refunding %s",
            order.pk,
            order.stripe_payment_intent_id,
            order.status,
            amount,
        )
    return refund


# ------------------------------------------------------------------------------
# The sweep of abandoned checkouts
# ------------------------------------------------------------------------------
# Every Checkout Session we create expires after settings.CHECKOUT_SESSION_MINUTES
# (30 by default, Stripe's minimum), and its expiry releases the order's stock. A
# PENDING order this much older than that has lost its expiry webhook or never got a
# session: the sweep (every 10 minutes) asks Stripe and acts.
ABANDONED_GRACE = timedelta(minutes=15)


def abandoned_after() -> timedelta:
    return timedelta(minutes=settings.CHECKOUT_SESSION_MINUTES) + ABANDONED_GRACE


@dataclass
class SweepSummary:
    expired: int = 0
    paid: int = 0
    waiting: int = 0
    errors: int = 0

    @property
    def handled(self) -> int:
        return self.expired + self.paid + self.waiting + self.errors


def checkout_sweep_abandoned(*, limit: int = 500) -> SweepSummary:
    """PENDING orders older than `abandoned_after()`: ask Stripe first, then act.

    The session is expired through the gateway; only when Stripe confirms it can no
    longer be paid does the order expire (and its stock come back). A session that
    turns out paid confirms the payment instead; one that is complete but still
    settling (a bank debit) is left PENDING; a gateway error leaves the order for the
    next run. An order that never got a session expires at once. Idempotent.
    """
    cutoff = timezone.now() - abandoned_after()
    rows = list(
        Order.objects.filter(status=Order.Status.PENDING, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", "stripe_checkout_session_id")[:limit]
    )
    summary = SweepSummary()
    gateway = get_gateway()
    for order_id, session_id in rows:
        if not session_id:
            order_checkout_expired(order_id=order_id)
            summary.expired += 1
            continue
        try:
            state = gateway.expire_checkout_session(session_id)
        except GatewayError as exc:
            logger.warning("sweep: order %s session %s: %s", order_id, session_id, exc)
            summary.errors += 1
            continue
        if state.payment_status == "paid":
            order_payment_confirm(state=state)
            summary.paid += 1
        elif state.status == "expired":
            order_checkout_expired(order_id=order_id)
            summary.expired += 1
        else:
            summary.waiting += 1
    return summary


# ------------------------------------------------------------------------------
# The buyer cancels on the payment page
# ------------------------------------------------------------------------------
class CancelOutcome:
    CLOSED = "closed"  # the order can no longer be paid: its items may go back in the cart
    PAID = "paid"  # Stripe says it was paid after all: confirmed instead
    WAITING = "waiting"  # complete but still settling, or Stripe unreachable: leave it


def checkout_cancel(*, order: Order) -> str:
    """The buyer left the payment page (Stripe's cancel_url, the simulator's Cancel or
    expiry). Expire the Checkout Session through the gateway and act on Stripe's
    answer: expired → the order expires and its stock is released at once; paid → the
    payment is confirmed (`order_payment_confirm`); anything else → left alone. An order
    without a session is cancelled. Idempotent. Returns a `CancelOutcome` value."""
    if order.status in Order.WAS_PAID:
        return CancelOutcome.PAID
    if order.status != Order.Status.PENDING:
        return CancelOutcome.CLOSED
    if not order.stripe_checkout_session_id:
        order_cancel(order_id=order.pk, reason="Checkout cancelled by the buyer")
        return CancelOutcome.CLOSED
    try:
        state = get_gateway().expire_checkout_session(order.stripe_checkout_session_id)
    except GatewayError as exc:
        logger.warning("cancel: order %s: %s", order.pk, exc)
        return CancelOutcome.WAITING
    if state.payment_status == "paid":
        order = order_payment_confirm(state=state)
        return CancelOutcome.PAID if order.status in Order.WAS_PAID else CancelOutcome.CLOSED
    if state.status == "expired":
        order_checkout_expired(order_id=order.pk)
        return CancelOutcome.CLOSED
    return CancelOutcome.WAITING
