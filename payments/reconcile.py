"""Ledger vs snapshots vs recorded transfers vs what Stripe charged (docs/LEDGER.md,
Invariants). Read-only.

A *drift* is data that disagrees with itself and needs a fix; an *open item* is money
visibly on its way (a transfer waiting for its retry or for the seller, a refund being
sent) — listed for staff, not an error.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q, Sum

from orders.models import Order
from payments.models import PaymentRefund, PlatformLedgerEntry, SellerBalanceEntry, SellerTransfer


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


def reconcile_ledger() -> tuple[int, list[Drift]]:
    """(orders checked, drifts). See `reconcile` for the open items too."""
    report = reconcile()
    return report.checked, report.drifts


def reconcile(*, order_ids: list[int] | None = None) -> Reconciliation:
    """Check every order that holds money (PAID, charged, or with ledger rows or
    transfers), or only `order_ids`."""
    reasons = SellerBalanceEntry.Reason
    report = Reconciliation()

    entries = SellerBalanceEntry.objects.filter(order__isnull=False)
    platform = PlatformLedgerEntry.objects.all()
    transfers_qs = SellerTransfer.objects.all()
    refunds_qs = PaymentRefund.objects.all()
    orders = Order.objects.filter(
        Q(status=Order.Status.PAID)
        | Q(amount_charged_cents__isnull=False)
        | Q(balance_entries__isnull=False)
        | Q(transfers__isnull=False)
    ).distinct()
    if order_ids is not None:
        entries = entries.filter(order_id__in=order_ids)
        platform = platform.filter(order_id__in=order_ids)
        transfers_qs = transfers_qs.filter(order_id__in=order_ids)
        refunds_qs = refunds_qs.filter(order_id__in=order_ids)
        orders = orders.filter(pk__in=order_ids)

    ledger: dict[tuple[int, int, str], int] = defaultdict(int)
    sellers_with_rows: dict[int, set[int]] = defaultdict(set)
    currencies: dict[int, set[str]] = defaultdict(set)
    for row in entries.values("order_id", "seller_id", "reason", "currency").annotate(
        total=Sum("amount_cents")
    ):
        ledger[(row["order_id"], row["seller_id"], row["reason"])] += row["total"]
        sellers_with_rows[row["order_id"]].add(row["seller_id"])
        currencies[row["order_id"]].add(row["currency"])
    transfer_refs: dict[tuple[int, int], set[str]] = defaultdict(set)
    for order_id, seller_id, ref in entries.filter(reason=reasons.TRANSFER).values_list(
        "order_id", "seller_id", "stripe_object_id"
    ):
        transfer_refs[(order_id, seller_id)].add(ref)
    fees: dict[tuple[int, str], int] = defaultdict(int)
    for row in platform.values("order_id", "reason").annotate(total=Sum("amount_cents")):
        fees[(row["order_id"], row["reason"])] += row["total"]
    transfers = {(t.order_id, t.seller_id): t for t in transfers_qs}
    transfer_sellers: dict[int, set[int]] = defaultdict(set)
    for t_order, t_seller in transfers:
        transfer_sellers[t_order].add(t_seller)
    owed: dict[tuple[int, int], int] = defaultdict(int)
    for (o, s, _reason), total in ledger.items():
        owed[(o, s)] += total
    refunds: dict[int, list[PaymentRefund]] = defaultdict(list)
    for refund in refunds_qs:
        refunds[refund.order_id].append(refund)

    def drift(order_id: int, seller_id: int | None, problem: str) -> None:
        report.drifts.append(Drift(order_id, seller_id, problem))

    def open_item(order_id: int, seller_id: int | None, problem: str) -> None:
        report.open_items.append(Drift(order_id, seller_id, problem))

    for order in orders.prefetch_related("items").order_by("pk"):
        report.checked += 1
        items = list(order.items.all())
        paid = order.status == Order.Status.PAID

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
            if not paid:
                back = sum(
                    r.amount_cents
                    for r in refunds[order.pk]
                    if r.status == PaymentRefund.Status.SUCCEEDED
                )
                waiting = [r for r in refunds[order.pk] if r.status == PaymentRefund.Status.PENDING]
                if back >= order.amount_charged_cents:
                    pass
                elif waiting:
                    open_item(order.pk, None, "payment on a closed order: refund being sent")
                else:
                    failed = [r.last_error for r in refunds[order.pk] if r.last_error]
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
            sale = ledger[(order.pk, seller_id, reasons.SALE)]
            transferred = -ledger[(order.pk, seller_id, reasons.TRANSFER)]
            transfer = transfers.get((order.pk, seller_id))
            if amount <= 0:
                # A free file in a paid cart: nothing earned, nothing to send.
                if sale or transfer is not None:
                    drift(order.pk, seller_id, "SALE or transfer for a seller owed nothing")
                continue
            if sale != amount:
                drift(order.pk, seller_id, f"SALE {sale} ≠ snapshots {amount}")
            if transfer is None:
                drift(order.pk, seller_id, "no transfer recorded")
                continue
            if transfer.currency != order.currency:
                drift(order.pk, seller_id, f"transfer in {transfer.currency}")
            owed_now = owed[(order.pk, seller_id)]
            if transfer.status == SellerTransfer.Status.CREATED:
                if not transfer.stripe_transfer_id:
                    drift(order.pk, seller_id, "transfer CREATED without a Stripe id")
                if transferred != transfer.amount_cents:
                    drift(
                        order.pk,
                        seller_id,
                        f"TRANSFER entries {transferred} ≠ transfer {transfer.amount_cents}",
                    )
                if transfer_refs[(order.pk, seller_id)] - {transfer.stripe_transfer_id}:
                    drift(
                        order.pk,
                        seller_id,
                        "TRANSFER row names Stripe transfer "
                        f"{', '.join(sorted(transfer_refs[(order.pk, seller_id)]))}, "
                        f"not {transfer.stripe_transfer_id}",
                    )
                if owed_now != 0:
                    drift(order.pk, seller_id, f"transferred, yet {owed_now} still owed")
            elif transfer.status == SellerTransfer.Status.CANCELED:
                if owed_now > 0:
                    drift(order.pk, seller_id, f"transfer canceled, yet {owed_now} owed")
            else:
                if transferred:
                    drift(order.pk, seller_id, f"TRANSFER entries {transferred}, no transfer")
                open_item(
                    order.pk,
                    seller_id,
                    f"transfer {transfer.status.lower()}: {transfer.last_error or 'not sent'}",
                )
    return report
