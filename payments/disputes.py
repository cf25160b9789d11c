"""Disputes (chargebacks) mirrored from Stripe, and what they do to the ledgers.

When the bank withdraws the disputed funds, the amount is allocated to the order's lines
by what each has left (largest remainder), each line's part split like a refund
(`orders.money.refund_split`): every seller of a disputed line gets a CHARGEBACK for
their share (net + shipping) and it is taken back from their transfer if one was made;
the platform books its fee and tax part. A dispute won reinstates the same amounts
(CHARGEBACK_REVERSAL), and whatever the seller is owed again is sent as a top-up
transfer. Inquiries (`warning_*`) move no money. Idempotent: each step is stamped on the
dispute under its row lock, and every row has its own key (docs/LEDGER.md).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from marketplace.exceptions import ApplicationError
from orders.models import Order, OrderEvent, OrderItem
from orders.money import allocate, line_refund_shares
from payments.gateway import DisputeState
from payments.ledger import ledger_post, platform_post
from payments.models import Dispute, PlatformLedgerEntry, SellerBalanceEntry
from payments.reversals import seller_reversals_open
from payments.selectors import order_for_charge

logger = logging.getLogger(__name__)

FUNDS_WITHDRAWN = {"needs_response", "under_review", "lost", "won"}


def dispute_shares(order: Order, amount_cents: int) -> dict:
    """Who bears a dispute of `amount_cents`: {"sellers": {id: cents}, "platform": cents}."""
    items = list(order.items.order_by("pk"))
    rests = [max(i.total_cents - i.refunded_cents, 0) for i in items]
    amount = min(amount_cents, sum(rests))
    sellers: dict[int, int] = defaultdict(int)
    platform = 0
    for item, rest, part in zip(items, rests, allocate(amount, rests), strict=True):
        if not part:
            continue
        seller_part, platform_part = line_refund_shares(
            item, refunded_before_cents=item.total_cents - rest, amount_cents=part
        )
        sellers[item.seller_id] += seller_part
        platform += platform_part
    return {"sellers": {str(k): v for k, v in sellers.items() if v}, "platform": platform}


@transaction.atomic
def dispute_sync(*, state: DisputeState) -> Dispute:
    """Mirror Stripe's dispute (re-fetched by the webhook handler) and move the money its
    status calls for, once."""
    order = order_for_charge(payment_intent_id=state.payment_intent_id, charge_id=state.charge_id)
    if order is None:
        raise ApplicationError(f"Dispute {state.id}: no order has charge {state.charge_id}.")
    due = datetime.fromtimestamp(state.evidence_due_by, tz=UTC) if state.evidence_due_by else None
    dispute, created = Dispute.objects.select_for_update().get_or_create(
        stripe_dispute_id=state.id,
        defaults={
            "order": order,
            "charge_id": state.charge_id,
            "amount_cents": state.amount_cents,
            "currency": state.currency or order.currency,
            "reason": state.reason[:40],
            "status": state.status,
            "evidence_due_by": due,
        },
    )
    if created:
        OrderEvent.objects.create(
            order=order,
            kind=OrderEvent.Kind.DISPUTE,
            message=f"The buyer's bank opened a dispute ({state.reason or 'no reason given'}).",
            data={"dispute": state.id, "amount_cents": state.amount_cents},
        )
        transaction.on_commit(lambda: _email_sellers(dispute.pk, "opened"), robust=True)
    changed = dispute.status != state.status
    dispute.status = state.status
    dispute.evidence_due_by = due or dispute.evidence_due_by
    if state.status in FUNDS_WITHDRAWN and dispute.debited_at is None:
        _debit(dispute)
    if state.status == Dispute.Status.WON and dispute.debited_at and not dispute.reinstated_at:
        _reinstate(dispute)
    if state.status not in Dispute.OPEN and dispute.closed_at is None:
        dispute.closed_at = timezone.now()
        OrderEvent.objects.create(
            order=order,
            kind=OrderEvent.Kind.DISPUTE,
            message=f"Dispute closed: {dispute.get_status_display().lower()}.",
            data={"dispute": state.id},
        )
        if changed:
            transaction.on_commit(lambda: _email_sellers(dispute.pk, "closed"), robust=True)
    dispute.save()
    return dispute


def _debit(dispute: Dispute) -> None:
    order = dispute.order
    shares = dispute_shares(order, dispute.amount_cents)
    sellers = {int(k): v for k, v in shares["sellers"].items()}
    for seller_id, share in sorted(sellers.items()):
        ledger_post(
            seller=order.items.filter(seller_id=seller_id).first().seller,
            amount_cents=-share,
            currency=order.currency,
            reason=SellerBalanceEntry.Reason.CHARGEBACK,
            idempotency_key=f"chargeback-{dispute.pk}-seller-{seller_id}",
            order=order,
            stripe_object_id=dispute.stripe_dispute_id,
            description=f"Dispute on order {order.pk}",
        )
    if shares["platform"]:
        platform_post(
            order=order,
            amount_cents=-shares["platform"],
            currency=order.currency,
            reason=PlatformLedgerEntry.Reason.CHARGEBACK,
            idempotency_key=f"platform-chargeback-{dispute.pk}",
            stripe_object_id=dispute.stripe_dispute_id,
        )
    dispute.shares = shares
    dispute.debited_at = timezone.now()
    seller_reversals_open(
        order_id=order.pk,
        seller_shares=sellers,
        key=f"dispute-{dispute.pk}",
        dispute=dispute,
    )


def _reinstate(dispute: Dispute) -> None:
    order = dispute.order
    sellers = {int(k): v for k, v in (dispute.shares.get("sellers") or {}).items()}
    for seller_id, share in sorted(sellers.items()):
        ledger_post(
            seller=order.items.filter(seller_id=seller_id).first().seller,
            amount_cents=share,
            currency=order.currency,
            reason=SellerBalanceEntry.Reason.CHARGEBACK_REVERSAL,
            idempotency_key=f"chargeback-reversal-{dispute.pk}-seller-{seller_id}",
            order=order,
            stripe_object_id=dispute.stripe_dispute_id,
            description=f"Dispute on order {order.pk} won",
        )
    if dispute.shares.get("platform"):
        platform_post(
            order=order,
            amount_cents=dispute.shares["platform"],
            currency=order.currency,
            reason=PlatformLedgerEntry.Reason.CHARGEBACK_REVERSAL,
            idempotency_key=f"platform-chargeback-reversal-{dispute.pk}",
            stripe_object_id=dispute.stripe_dispute_id,
        )
    dispute.reinstated_at = timezone.now()
    order_id = order.pk
    # What the sellers are owed again goes out as top-up transfers.
    transaction.on_commit(lambda: _payout(order_id), robust=True)


def _payout(order_id: int) -> None:
    from payments.tasks import order_payout_task

    order_payout_task.delay(order_id)


def _email_sellers(dispute_pk: int, step: str) -> None:
    from payments.tasks import dispute_email_task

    dispute_email_task.delay(dispute_pk, step)


def dispute_emails_send(*, dispute_pk: int, step: str) -> None:
    """Tell each seller of a disputed line (keyed, once per step)."""
    from messaging.services import email_send

    dispute = Dispute.objects.select_related("order").get(pk=dispute_pk)
    sellers = {
        i.seller for i in OrderItem.objects.filter(order=dispute.order).select_related("seller")
    }
    shares = {int(k): v for k, v in (dispute.shares.get("sellers") or {}).items()}
    for seller in sorted(sellers, key=lambda s: s.pk):
        email_send(
            key=f"dispute-{dispute.pk}-{step}-seller-{seller.pk}",
            to=seller.email,
            template=f"payments/emails/dispute_{step}",
            context={
                "dispute": dispute,
                "seller": seller,
                "share_cents": shares.get(seller.pk, 0),
                "notification_url": reverse(
                    "orders:seller-sale-detail", kwargs={"order_pk": dispute.order_id}
                ),
            },
        )
