"""Money going back to the buyer: a `PaymentRefund` sent to Stripe, and the ledger rows
it writes once Stripe confirms it (docs/LEDGER.md, "Refunds").

Sending: claimed under a lock, retried with backoff after an outage, a fresh key per
attempt and a look for an existing refund first (the rules of `payments.payouts`).
Posting: when Stripe says the refund succeeded (its answer, or `charge.refunded` /
`refund.updated` through the webhook pipeline), once, under the refund's row lock: per
line, REFUND for the seller's share (net + shipping) and the platform's REFUND for its
fee and tax; the line's `refunded_cents`; then the seller's share is taken back from
their transfer if it was made (else their next transfer is simply smaller).
Refunds made in the Stripe dashboard are found by the same webhook and recorded too.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from marketplace.audit import staff_action
from marketplace.exceptions import ApplicationError
from orders.models import Order, OrderEvent, OrderItem
from orders.money import line_refund_shares
from orders.services import order_item_refund_record
from payments import hooks
from payments.gateway import GatewayError, GatewayUnavailable, RefundResult, get_gateway, stripe_key
from payments.ledger import ledger_post, platform_post
from payments.models import PaymentRefund, PlatformLedgerEntry, SellerBalanceEntry
from payments.payouts import outage_record, retry_delay
from payments.reversals import seller_reversals_open

logger = logging.getLogger(__name__)


def refund_metadata(refund: PaymentRefund) -> dict[str, str]:
    return {"order_id": str(refund.order_id), "refund": refund.idempotency_key}


def _claim(refund_id: int) -> PaymentRefund | None:
    now = timezone.now()
    with transaction.atomic():
        refund = PaymentRefund.objects.select_for_update().get(pk=refund_id)
        if refund.status != PaymentRefund.Status.PENDING or refund.stripe_refund_id:
            return None  # done, or sent and waiting for Stripe's word (refund.updated)
        if refund.next_attempt_at and refund.next_attempt_at > now:
            return None
        if not refund.payment_intent_id:
            refund.status = PaymentRefund.Status.FAILED
            refund.last_error = "The payment intent is not known: refund it in Stripe by hand."
            refund.save()
            return None
        refund.attempts += 1
        refund.next_attempt_at = now + retry_delay(refund.consecutive_failures + 1)
        refund.save()
    return refund


def payment_refund_attempt(*, refund_id: int) -> PaymentRefund:
    """Send one PENDING refund if it is due. Safe to run twice and concurrently."""
    refund = _claim(refund_id)
    if refund is None:
        return PaymentRefund.objects.get(pk=refund_id)
    gateway = get_gateway()
    metadata = refund_metadata(refund)
    try:
        found = None
        if refund.attempts > 1:
            found = gateway.find_refund(
                payment_intent_id=refund.payment_intent_id, metadata=metadata
            )
        result = found or gateway.create_refund(
            payment_intent_id=refund.payment_intent_id,
            amount_cents=refund.amount_cents,
            idempotency_key=stripe_key(f"{refund.idempotency_key}-attempt-{refund.attempts}"),
            metadata=metadata,
        )
    except GatewayUnavailable as exc:
        return _refund_outage(refund.pk, exc.message)
    except GatewayError as exc:
        return _refund_failed(refund.pk, exc.message)
    return _refund_sent(refund.pk, result)


@transaction.atomic
def _refund_outage(refund_pk: int, reason: str) -> PaymentRefund:
    refund = PaymentRefund.objects.select_for_update().get(pk=refund_pk)
    if refund.status == PaymentRefund.Status.PENDING:
        outage_record(
            refund, reason, failed_status=PaymentRefund.Status.FAILED, since=timezone.now()
        )
    return refund


@transaction.atomic
def _refund_failed(refund_pk: int, reason: str) -> PaymentRefund:
    refund = PaymentRefund.objects.select_for_update().get(pk=refund_pk)
    if refund.status == PaymentRefund.Status.PENDING:
        refund.status = PaymentRefund.Status.FAILED
        refund.last_error = reason
        refund.next_attempt_at = None
        refund.save()
        logger.error("refund %s refused by Stripe: %s", refund.idempotency_key, reason)
        transaction.on_commit(lambda: hooks.refund_failed(refund_pk), robust=True)
    return refund


@transaction.atomic
def _refund_sent(refund_pk: int, result: RefundResult) -> PaymentRefund:
    """Stripe accepted the refund: record its id; post it when Stripe says it succeeded
    (a card refund at once; some methods later, by `refund.updated`)."""
    refund = PaymentRefund.objects.select_for_update().select_related("order").get(pk=refund_pk)
    if refund.status != PaymentRefund.Status.PENDING:
        return refund
    refund.stripe_refund_id = result.id
    refund.last_error = ""
    refund.next_attempt_at = None
    refund.save()
    return _apply_stripe_status(refund, result)


def _apply_stripe_status(refund: PaymentRefund, result: RefundResult) -> PaymentRefund:
    """Inside the refund's lock: act on Stripe's status of it."""
    if result.status == "succeeded":
        return _settle_locked(refund, amount_cents=result.amount_cents)
    if result.status in ("failed", "canceled") and refund.status == PaymentRefund.Status.PENDING:
        refund.status = PaymentRefund.Status.FAILED
        refund.last_error = f"Stripe reports the refund {result.status}."
        refund.save()
        refund_pk = refund.pk
        transaction.on_commit(lambda: hooks.refund_failed(refund_pk), robust=True)
    return refund


def _settle_locked(refund: PaymentRefund, *, amount_cents: int) -> PaymentRefund:
    """SUCCEEDED, and its rows posted once (a LATE_PAYMENT refund has no lines)."""
    if refund.status != PaymentRefund.Status.SUCCEEDED:
        refund.status = PaymentRefund.Status.SUCCEEDED
        refund.amount_cents = amount_cents or refund.amount_cents
        refund.refunded_at = timezone.now()
        refund.last_error = ""
        refund.save()
        refund_pk = refund.pk
        if refund.reason in (PaymentRefund.Reason.LATE_PAYMENT, PaymentRefund.Reason.NO_ADDRESS):
            OrderEvent.objects.create(
                order=refund.order,
                kind=OrderEvent.Kind.REFUND,
                message="Your payment was refunded in full: the order could not be completed.",
                data={"refund": refund.stripe_refund_id, "amount_cents": refund.amount_cents},
            )
            transaction.on_commit(lambda: _email_buyer(refund_pk), robust=True)
    _post_locked(refund)
    return refund


def _post_locked(refund: PaymentRefund) -> None:
    """Post a SUCCEEDED refund's ledger rows once (docs/LEDGER.md, Refunds)."""
    if refund.posted_at is not None or refund.needs_allocation or not refund.allocations:
        return
    sellers: dict[int, int] = defaultdict(int)
    platform = 0
    key = refund.idempotency_key
    for item_id, amount in sorted((int(k), v) for k, v in refund.allocations.items()):
        item = OrderItem.objects.select_for_update().select_related("seller").get(pk=item_id)
        seller_part, platform_part = line_refund_shares(
            item, refunded_before_cents=item.refunded_cents, amount_cents=amount
        )
        if seller_part:
            ledger_post(
                seller=item.seller,
                amount_cents=-seller_part,
                currency=item.currency,
                reason=SellerBalanceEntry.Reason.REFUND,
                idempotency_key=f"{key}-line-{item.pk}",
                order=refund.order,
                order_item=item,
                stripe_object_id=refund.stripe_refund_id or "",
                description=f"Refund of “{item.title}”",
            )
        if platform_part:
            platform_post(
                order=refund.order,
                amount_cents=-platform_part,
                currency=item.currency,
                reason=PlatformLedgerEntry.Reason.REFUND,
                idempotency_key=f"platform-{key}-line-{item.pk}",
                stripe_object_id=refund.stripe_refund_id or "",
                description=f"Fee and tax given back on “{item.title}”",
            )
        order_item_refund_record(item_id=item.pk, amount_cents=amount)
        sellers[item.seller_id] += seller_part
        platform += platform_part
    refund.shares = {"sellers": {str(k): v for k, v in sellers.items()}, "platform": platform}
    refund.posted_at = timezone.now()
    refund.save(update_fields=["shares", "posted_at", "updated_at"])
    seller_reversals_open(
        order_id=refund.order_id,
        seller_shares={k: v for k, v in sellers.items() if v > 0},
        key=key,
        payment_refund=refund,
    )
    refund_pk = refund.pk
    transaction.on_commit(lambda: hooks.refund_settled(refund_pk), robust=True)


# ------------------------------------------------------------------------------
# Opening refunds (the refunds app, staff) and hearing about them (webhooks)
# ------------------------------------------------------------------------------
def line_refundable_cents(item: OrderItem) -> int:
    """What can still go back on a line: its total less what was refunded or is being
    refunded (PENDING refunds of the line)."""
    pending = (
        PaymentRefund.objects.filter(
            order_item=item, status=PaymentRefund.Status.PENDING
        ).aggregate(s=Sum("amount_cents"))["s"]
        or 0
    )
    return item.total_cents - item.refunded_cents - pending


@transaction.atomic
def payment_refund_open_for_line(
    *, order_item_id: int, amount_cents: int, key: str, requested_by=None
) -> PaymentRefund:
    """Open (once per `key`) the Stripe refund of `amount_cents` of one line and send it
    after commit. Refuses an unpaid order and more than the line has left; never more
    than what remains of the charge."""
    item = OrderItem.objects.select_for_update().select_related("order").get(pk=order_item_id)
    existing = PaymentRefund.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    order = item.order
    if order.status not in Order.WAS_PAID or not order.stripe_payment_intent_id:
        raise ApplicationError("Only lines of paid orders can be refunded.")
    if amount_cents <= 0:
        raise ApplicationError("Enter an amount above zero.")
    if amount_cents > line_refundable_cents(item):
        raise ApplicationError("That is more than this line has left to refund.")
    refund = PaymentRefund.objects.create(
        order=order,
        order_item=item,
        reason=PaymentRefund.Reason.LINE,
        amount_cents=amount_cents,
        currency=order.charged_currency or order.currency,
        payment_intent_id=order.stripe_payment_intent_id,
        idempotency_key=key,
        allocations={str(item.pk): amount_cents},
        requested_by=requested_by,
        next_attempt_at=timezone.now(),
    )
    refund_pk = refund.pk
    transaction.on_commit(lambda: _send(refund_pk), robust=True)
    return refund


def _send(refund_id: int) -> None:
    from payments.tasks import payment_refund_attempt_task

    payment_refund_attempt_task.delay(refund_id)


@transaction.atomic
def payment_refund_reopen(*, refund_id: int) -> PaymentRefund:
    """Staff: try a FAILED refund again (a fresh key; Stripe is asked first)."""
    refund = PaymentRefund.objects.select_for_update().get(pk=refund_id)
    if refund.status != PaymentRefund.Status.FAILED:
        raise ApplicationError("Only a failed refund can be tried again.")
    if refund.order_item_id is not None:
        item = OrderItem.objects.select_for_update().get(pk=refund.order_item_id)
        if refund.amount_cents > line_refundable_cents(item):
            raise ApplicationError("The line has less than that left to refund now.")
    refund.status = PaymentRefund.Status.PENDING
    refund.stripe_refund_id = None
    refund.consecutive_failures = 0
    refund.next_attempt_at = timezone.now()
    refund.save()
    transaction.on_commit(lambda: _send(refund_id), robust=True)
    return refund


def _rest_by_line(order: Order) -> dict[int, int]:
    """{line id: what it has left}, less what PENDING refunds are already sending."""
    return {
        item.pk: rest for item in order.items.all() if (rest := line_refundable_cents(item)) > 0
    }


def payment_refunds_sync(*, order_id: int) -> list[PaymentRefund]:
    """Stripe says a charge of this order was refunded (`charge.refunded`, or
    `refund.updated`): read every refund of the payment from Stripe and act on each.
    Ours are posted or failed; one we did not make (Stripe dashboard, Stripe's fraud
    tools) is recorded as OUTSIDE: a refund of everything left is allocated to the lines
    at once, a partial one waits for staff (`needs_allocation`). Idempotent."""
    order = Order.objects.get(pk=order_id)
    if not order.stripe_payment_intent_id:
        return []
    results = get_gateway().list_refunds(payment_intent_id=order.stripe_payment_intent_id)
    touched = []
    for result in results:
        with transaction.atomic():
            refund = (
                PaymentRefund.objects.select_for_update().filter(stripe_refund_id=result.id).first()
            )
            if refund is None and result.metadata.get("refund"):
                refund = (
                    PaymentRefund.objects.select_for_update()
                    .filter(idempotency_key=result.metadata["refund"])
                    .first()
                )
                if refund is not None and not refund.stripe_refund_id:
                    refund.stripe_refund_id = result.id
                    refund.save(update_fields=["stripe_refund_id", "updated_at"])
            if refund is None:
                if result.status != "succeeded":
                    continue
                refund = _outside_refund_record(order, result)
            touched.append(_apply_stripe_status(refund, result))
    return touched


def _outside_refund_record(order: Order, result: RefundResult) -> PaymentRefund:
    locked = Order.objects.select_for_update().get(pk=order.pk)
    rest = _rest_by_line(locked) if locked.status in Order.WAS_PAID else {}
    whole = bool(rest) and result.amount_cents == sum(rest.values())
    refund = PaymentRefund.objects.create(
        order=locked,
        reason=PaymentRefund.Reason.OUTSIDE,
        amount_cents=result.amount_cents,
        currency=locked.charged_currency or locked.currency,
        payment_intent_id=locked.stripe_payment_intent_id,
        stripe_refund_id=result.id,
        idempotency_key=f"refund-outside-{result.id}",
        allocations={str(k): v for k, v in rest.items()} if whole else {},
        needs_allocation=bool(rest) and not whole,
    )
    OrderEvent.objects.create(
        order=locked,
        kind=OrderEvent.Kind.REFUND,
        message=(
            "A refund made in Stripe was recorded"
            + ("." if whole or not rest else "; staff must say which lines it was for.")
        ),
        data={"refund": result.id, "amount_cents": result.amount_cents},
    )
    logger.warning("order %s: refund %s made outside the marketplace", locked.pk, result.id)
    return refund


@transaction.atomic
def payment_refund_allocate(
    *, refund_id: int, allocations: dict[int, int], actor=None
) -> PaymentRefund:
    """Staff say which lines a partial OUTSIDE refund was for; then it is posted.
    Audited (`marketplace.audit.staff_action`, "refund.allocate") with `actor`."""
    refund = PaymentRefund.objects.select_for_update().select_related("order").get(pk=refund_id)
    if not refund.needs_allocation:
        raise ApplicationError("This refund needs no allocation.")
    if sum(allocations.values()) != refund.amount_cents or any(
        v <= 0 for v in allocations.values()
    ):
        raise ApplicationError("The amounts per line must add up to the refund, each above 0.")
    rest = _rest_by_line(refund.order)
    for item_id, amount in allocations.items():
        if amount > rest.get(int(item_id), 0):
            raise ApplicationError(f"Line {item_id} has less than that left to refund.")
    refund.allocations = {str(k): v for k, v in allocations.items()}
    refund.needs_allocation = False
    refund.save(update_fields=["allocations", "needs_allocation", "updated_at"])
    _post_locked(refund)
    staff_action(
        actor=actor,
        action="refund.allocate",
        target=refund,
        reason="Allocated a refund made outside the site to the order's lines.",
        before={"needs_allocation": True},
        after={"allocations": refund.allocations, "amount_cents": refund.amount_cents},
    )
    return refund


def _email_buyer(refund_id: int) -> None:
    from payments.tasks import payment_refunded_email_task

    payment_refunded_email_task.delay(refund_id)


def payment_refunds_retry_due(*, limit: int = 200) -> int:
    """Periodic: attempt every PENDING refund whose time has come."""
    now = timezone.now()
    ids = list(
        PaymentRefund.objects.filter(status=PaymentRefund.Status.PENDING)
        .exclude(next_attempt_at__gt=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for refund_id in ids:
        payment_refund_attempt(refund_id=refund_id)
    return len(ids)
