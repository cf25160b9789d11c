"""Ledgers vs snapshots vs transfers vs refunds vs disputes vs what Stripe charged
(docs/LEDGER.md, Invariants). Read-only.

A *drift* is data that disagrees with itself and needs a fix; an *open item* is money
visibly on its way (a transfer waiting for its retry or for the seller, a refund or a
reversal being sent, a negative balance to be settled from the seller's next transfer)
— listed for staff, not an error.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q, Sum

from marketplace.templatetags.money import format_money
from orders.models import Order
from payments.models import (
    Dispute,
    PaymentRefund,
    PlatformLedgerEntry,
    SellerBalanceEntry,
    SellerTransfer,
    SellerTransferReversal,
    StripeEvent,
)

PAYMENT_EVENT_TYPES = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
)


@dataclass(frozen=True)
class Drift:
    order_id: int
    seller_id: int | None
    problem: str


@dataclass
class Reconciliation:
    checked: int = 0
    drifts: list[Drift] = field(default_factory=list)
    open_items: list[Drift] = field(default_factory=list)

    def for_order(self, order_id: int) -> tuple[list[Drift], list[Drift]]:
        return (
            [d for d in self.drifts if d.order_id == order_id],
            [d for d in self.open_items if d.order_id == order_id],
        )


def reconcile_ledger() -> tuple[int, list[Drift]]:
    """(orders checked, drifts). See `reconcile` for the open items too."""
    report = reconcile()
    return report.checked, report.drifts


def orders_holding_money():
    return Order.objects.filter(
        Q(status__in=Order.WAS_PAID)
        | Q(amount_charged_cents__isnull=False)
        | Q(balance_entries__isnull=False)
        | Q(transfers__isnull=False)
    ).distinct()


def reconcile(*, order_ids: list[int] | None = None) -> Reconciliation:
    """Check every order that holds money (paid, charged, or with ledger rows or
    transfers), or only `order_ids`."""
    reasons = SellerBalanceEntry.Reason
    report = Reconciliation()

    entries = SellerBalanceEntry.objects.filter(order__isnull=False)
    platform = PlatformLedgerEntry.objects.all()
    transfers_qs = SellerTransfer.objects.all()
    reversals_qs = SellerTransferReversal.objects.select_related("transfer")
    refunds_qs = PaymentRefund.objects.all()
    disputes_qs = Dispute.objects.all()
    orders = orders_holding_money()
    if order_ids is not None:
        entries = entries.filter(order_id__in=order_ids)
        platform = platform.filter(order_id__in=order_ids)
        transfers_qs = transfers_qs.filter(order_id__in=order_ids)
        reversals_qs = reversals_qs.filter(transfer__order_id__in=order_ids)
        refunds_qs = refunds_qs.filter(order_id__in=order_ids)
        disputes_qs = disputes_qs.filter(order_id__in=order_ids)
        orders = orders.filter(pk__in=order_ids)

    ledger: dict[tuple[int, int, str], int] = defaultdict(int)
    owed: dict[tuple[int, int], int] = defaultdict(int)
    sellers_with_rows: dict[int, set[int]] = defaultdict(set)
    currencies: dict[int, set[str]] = defaultdict(set)
    for row in entries.values("order_id", "seller_id", "reason", "currency").annotate(
        total=Sum("amount_cents")
    ):
        ledger[(row["order_id"], row["seller_id"], row["reason"])] += row["total"]
        owed[(row["order_id"], row["seller_id"])] += row["total"]
        sellers_with_rows[row["order_id"]].add(row["seller_id"])
        currencies[row["order_id"]].add(row["currency"])
    refs: dict[tuple[int, int, str], set[str]] = defaultdict(set)
    for order_id, seller_id, reason, ref in entries.filter(
        reason__in=[reasons.TRANSFER, reasons.TRANSFER_REVERSAL]
    ).values_list("order_id", "seller_id", "reason", "stripe_object_id"):
        refs[(order_id, seller_id, reason)].add(ref)
    fees: dict[tuple[int, str], int] = defaultdict(int)
    for row in platform.values("order_id", "reason").annotate(total=Sum("amount_cents")):
        fees[(row["order_id"], row["reason"])] += row["total"]
    transfers: dict[tuple[int, int], list[SellerTransfer]] = defaultdict(list)
    for t in transfers_qs.order_by("sequence"):
        transfers[(t.order_id, t.seller_id)].append(t)
    transfer_sellers: dict[int, set[int]] = defaultdict(set)
    for t_order, t_seller in transfers:
        transfer_sellers[t_order].add(t_seller)
    reversals: dict[tuple[int, int], list[SellerTransferReversal]] = defaultdict(list)
    for r in reversals_qs:
        reversals[(r.transfer.order_id, r.transfer.seller_id)].append(r)
    refunds: dict[int, list[PaymentRefund]] = defaultdict(list)
    for refund in refunds_qs.order_by("pk"):
        refunds[refund.order_id].append(refund)
    disputes: dict[int, list[Dispute]] = defaultdict(list)
    for dispute in disputes_qs.order_by("pk"):
        disputes[dispute.order_id].append(dispute)

    def drift(order_id: int, seller_id: int | None, problem: str) -> None:
        report.drifts.append(Drift(order_id, seller_id, problem))

    def open_item(order_id: int, seller_id: int | None, problem: str) -> None:
        report.open_items.append(Drift(order_id, seller_id, problem))

    # A payment event that failed for good is money Stripe may hold for an order we know
    # nothing of yet: listed until a replay processes it.
    for event in StripeEvent.objects.filter(
        status=StripeEvent.Status.FAILED, type__in=PAYMENT_EVENT_TYPES
    ).order_by("pk"):
        obj = (event.payload.get("data") or {}).get("object") or {}
        raw = (obj.get("metadata") or {}).get("order_id") or obj.get("client_reference_id")
        try:
            order_id = int(raw)
        except (TypeError, ValueError):
            order_id = 0
        if order_ids is None or order_id in order_ids:
            open_item(
                order_id,
                None,
                f"payment event {event.stripe_event_id} ({event.type}) failed: "
                f"{event.last_error.splitlines()[0] if event.last_error else 'no error kept'} "
                "— replay it (stripe_events_replay)",
            )

    for order in orders.prefetch_related("items").order_by("pk"):
        report.checked += 1
        items = list(order.items.all())
        paid = order.status in Order.WAS_PAID
        order_refunds = refunds[order.pk]

        # The order's own arithmetic: totals are the sums of their lines.
        for name, line_field in (
            ("subtotal", "subtotal_cents"),
            ("shipping", "shipping_allocated_cents"),
            ("tax", "tax_allocated_cents"),
        ):
            lines_sum = sum(getattr(i, line_field) for i in items)
            if getattr(order, f"{name}_cents") != lines_sum:
                drift(
                    order.pk,
                    None,
                    f"order {name} {getattr(order, f'{name}_cents')} ≠ Σ lines {lines_sum}",
                )
        if order.total_cents != order.subtotal_cents + order.shipping_cents + order.tax_cents:
            drift(order.pk, None, "order total ≠ subtotal + shipping + tax")
        if any(i.currency != order.currency for i in items):
            drift(order.pk, None, "a line's currency differs from the order's")

        # What Stripe charged, compared with what the order says.
        succeeded = [r for r in order_refunds if r.status == PaymentRefund.Status.SUCCEEDED]
        refunded_total = sum(r.amount_cents for r in succeeded)
        if order.amount_charged_cents is not None:
            if paid and order.amount_charged_cents != order.total_cents:
                drift(
                    order.pk,
                    None,
                    f"Stripe charged {order.amount_charged_cents} ≠ order total "
                    f"{order.total_cents}",
                )
            if order.charged_currency and order.charged_currency != order.currency:
                drift(
                    order.pk,
                    None,
                    f"Stripe charged in {order.charged_currency}, the order is in {order.currency}",
                )
            if refunded_total > order.amount_charged_cents:
                drift(order.pk, None, f"refunds {refunded_total} exceed the charge")
            if not paid:
                waiting = [r for r in order_refunds if r.status == PaymentRefund.Status.PENDING]
                if refunded_total >= order.amount_charged_cents:
                    pass
                elif waiting:
                    open_item(order.pk, None, "payment on a closed order: refund being sent")
                else:
                    failed = [r.last_error for r in order_refunds if r.last_error]
                    drift(
                        order.pk,
                        None,
                        f"{order.amount_charged_cents} captured on a {order.status.lower()} "
                        f"order and not refunded" + (f" ({failed[-1]})" if failed else ""),
                    )

        # Ledger currency and who may appear on it.
        if currencies[order.pk] - {order.currency}:
            drift(
                order.pk,
                None,
                f"ledger rows in {', '.join(sorted(currencies[order.pk] - {order.currency}))} "
                f"on an order in {order.currency}",
            )
        order_sellers = {i.seller_id for i in items}
        for seller_id in sorted(sellers_with_rows[order.pk] - order_sellers):
            drift(order.pk, seller_id, "ledger rows for a seller who sold nothing in this order")
        for seller_id in sorted(transfer_sellers[order.pk] - order_sellers):
            drift(order.pk, seller_id, "a transfer to a seller who sold nothing in this order")

        if not paid:
            if sellers_with_rows[order.pk]:
                drift(order.pk, None, "ledger rows for an order that is not paid")
            if transfer_sellers[order.pk]:
                drift(order.pk, None, "a transfer for an order that is not paid")
            continue

        # Refunds: every one Stripe confirmed is posted, on the lines it names.
        posted = [r for r in succeeded if r.posted_at is not None]
        line_refunded: dict[int, int] = defaultdict(int)
        seller_refunds: dict[int, int] = defaultdict(int)
        platform_refunds = 0
        for refund in posted:
            for item_id, amount in refund.allocations.items():
                line_refunded[int(item_id)] += amount
            for seller_id, share in (refund.shares.get("sellers") or {}).items():
                seller_refunds[int(seller_id)] += share
            platform_refunds += refund.shares.get("platform") or 0
        for refund in succeeded:
            if refund.needs_allocation:
                drift(
                    order.pk,
                    None,
                    f"refund {refund.stripe_refund_id} of "
                    f"{format_money(refund.amount_cents, refund.currency)} made outside "
                    "the marketplace is not allocated to lines",
                )
            elif refund.posted_at is None and refund.reason == PaymentRefund.Reason.LINE:
                drift(order.pk, None, f"refund {refund.idempotency_key} succeeded, not posted")
        for refund in order_refunds:
            if refund.status == PaymentRefund.Status.PENDING:
                open_item(
                    order.pk,
                    None,
                    f"refund of {format_money(refund.amount_cents, refund.currency)} being sent",
                )
            elif refund.status == PaymentRefund.Status.FAILED:
                open_item(order.pk, None, f"refund failed: {refund.last_error}")
        for item in items:
            if item.refunded_cents != line_refunded[item.pk]:
                drift(
                    order.pk,
                    item.seller_id,
                    f"line {item.pk} says {item.refunded_cents} refunded, refunds posted "
                    f"{line_refunded[item.pk]}",
                )
        if -fees[(order.pk, PlatformLedgerEntry.Reason.REFUND)] != platform_refunds:
            drift(
                order.pk,
                None,
                f"platform REFUND {-fees[(order.pk, PlatformLedgerEntry.Reason.REFUND)]} ≠ "
                f"refunds' platform shares {platform_refunds}",
            )
        all_back = any(i.total_cents for i in items) and all(
            i.refunded_cents >= i.total_cents for i in items
        )
        if (order.status == Order.Status.REFUNDED) != all_back:
            drift(order.pk, None, f"order is {order.status.lower()} but lines say otherwise")

        # Disputes: each seller's CHARGEBACK and its reversal match the dispute's shares.
        chargebacks: dict[int, int] = defaultdict(int)
        chargebacks_back: dict[int, int] = defaultdict(int)
        for dispute in disputes[order.pk]:
            shares = dispute.shares.get("sellers") or {}
            if dispute.debited_at:
                for seller_id, share in shares.items():
                    chargebacks[int(seller_id)] += share
            if dispute.reinstated_at:
                for seller_id, share in shares.items():
                    chargebacks_back[int(seller_id)] += share
            if dispute.is_open:
                open_item(
                    order.pk,
                    None,
                    f"dispute {dispute.stripe_dispute_id} {dispute.get_status_display().lower()}"
                    + (
                        f", evidence due {dispute.evidence_due_by:%Y-%m-%d}"
                        if dispute.evidence_due_by
                        else ""
                    ),
                )

        # The platform's fee: what it earned is exactly Σ line fees.
        fee = sum(i.marketplace_fee_cents for i in items)
        posted_fee = fees[(order.pk, PlatformLedgerEntry.Reason.FEE)]
        if order.total_cents and posted_fee and posted_fee != fee:
            drift(order.pk, None, f"platform FEE {posted_fee} ≠ Σ line fees {fee}")

        if order.total_cents == 0:
            if sellers_with_rows[order.pk]:
                drift(order.pk, None, "ledger rows for a free order")
            continue

        expected: dict[int, int] = defaultdict(int)
        for item in items:
            expected[item.seller_id] += item.seller_payable_cents
        for seller_id, amount in sorted(expected.items()):
            key = (order.pk, seller_id)

            def rows(reason: str, key=key) -> int:
                return ledger[(key[0], key[1], reason)]

            seller_transfers = transfers.get(key, [])
            if amount <= 0:
                # A free file in a paid cart: nothing earned, nothing to send.
                if rows(reasons.SALE) or seller_transfers:
                    drift(order.pk, seller_id, "SALE or transfer for a seller owed nothing")
                continue
            if (
                order.followups_done_at is None
                and not rows(reasons.SALE)
                and not seller_transfers
                and not owed[key]
            ):
                # Paid moments ago, or its follow-up task was lost: the sweeper posts the
                # SALE and starts the transfer (payments.followups). Visible, not drift.
                open_item(order.pk, seller_id, "follow-ups pending: SALE and transfer to come")
                continue
            if rows(reasons.SALE) != amount:
                drift(order.pk, seller_id, f"SALE {rows(reasons.SALE)} ≠ snapshots {amount}")
            if -rows(reasons.REFUND) != seller_refunds[seller_id]:
                drift(
                    order.pk,
                    seller_id,
                    f"REFUND entries {-rows(reasons.REFUND)} ≠ refunds' seller shares "
                    f"{seller_refunds[seller_id]}",
                )
            if -rows(reasons.CHARGEBACK) != chargebacks[seller_id]:
                drift(
                    order.pk,
                    seller_id,
                    f"CHARGEBACK entries {-rows(reasons.CHARGEBACK)} ≠ disputes' shares "
                    f"{chargebacks[seller_id]}",
                )
            if rows(reasons.CHARGEBACK_REVERSAL) != chargebacks_back[seller_id]:
                drift(
                    order.pk,
                    seller_id,
                    f"CHARGEBACK_REVERSAL entries {rows(reasons.CHARGEBACK_REVERSAL)} ≠ "
                    f"disputes won {chargebacks_back[seller_id]}",
                )
            if not seller_transfers:
                drift(order.pk, seller_id, "no transfer recorded")
                continue
            created = [t for t in seller_transfers if t.status == SellerTransfer.Status.CREATED]
            for transfer in created:
                if not transfer.stripe_transfer_id:
                    drift(order.pk, seller_id, "transfer CREATED without a Stripe id")
                if transfer.currency != order.currency:
                    drift(order.pk, seller_id, f"transfer in {transfer.currency}")
            sent = sum(t.amount_cents for t in created)
            if -rows(reasons.TRANSFER) != sent:
                drift(
                    order.pk,
                    seller_id,
                    f"TRANSFER entries {-rows(reasons.TRANSFER)} ≠ transfer {sent}",
                )
            if refs[(*key, reasons.TRANSFER)] - {t.stripe_transfer_id for t in created}:
                drift(
                    order.pk,
                    seller_id,
                    "TRANSFER row names Stripe transfer "
                    f"{', '.join(sorted(refs[(*key, reasons.TRANSFER)]))}, "
                    f"not {', '.join(sorted(t.stripe_transfer_id or '' for t in created))}",
                )
            seller_reversals = reversals.get(key, [])
            taken = sum(
                r.amount_cents
                for r in seller_reversals
                if r.status == SellerTransferReversal.Status.CREATED
            )
            if rows(reasons.TRANSFER_REVERSAL) != taken:
                drift(
                    order.pk,
                    seller_id,
                    f"TRANSFER_REVERSAL entries {rows(reasons.TRANSFER_REVERSAL)} ≠ "
                    f"reversals {taken}",
                )
            if taken > sent:
                drift(order.pk, seller_id, f"reversed {taken}, more than sent {sent}")
            reversing = [
                r for r in seller_reversals if r.status == SellerTransferReversal.Status.PENDING
            ]
            latest = seller_transfers[-1]
            owed_now = owed[key]
            if latest.status in (SellerTransfer.Status.PENDING, SellerTransfer.Status.FAILED):
                if rows(reasons.TRANSFER) and latest.sequence == 1:
                    drift(order.pk, seller_id, "TRANSFER entries, no transfer made")
                open_item(
                    order.pk,
                    seller_id,
                    f"transfer {latest.status.lower()}: {latest.last_error or 'not sent yet'}",
                )
            elif owed_now < 0:
                open_item(
                    order.pk,
                    seller_id,
                    f"reversal of {format_money(-owed_now, order.currency)} being sent"
                    if reversing
                    else f"negative balance {format_money(owed_now, order.currency)}: settled "
                    "from the seller's next transfer",
                )
            elif owed_now > 0:
                drift(order.pk, seller_id, f"{owed_now} owed with no transfer on its way")
    return report
