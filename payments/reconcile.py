"""Ledger vs snapshots vs recorded transfers (docs/LEDGER.md, Invariants)."""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Sum

from orders.models import Order
from payments.models import SellerBalanceEntry, SellerTransfer


@dataclass(frozen=True)
class Drift:
    order_id: int
    seller_id: int
    problem: str


def reconcile_ledger() -> tuple[int, list[Drift]]:
    """Check every paid order. Returns (orders checked, drifts). Read-only."""
    reasons = SellerBalanceEntry.Reason
    drifts: list[Drift] = []
    ledger = defaultdict(int)
    for row in (
        SellerBalanceEntry.objects.filter(order__isnull=False)
        .values("order_id", "seller_id", "reason")
        .annotate(total=Sum("amount_cents"))
    ):
        ledger[(row["order_id"], row["seller_id"], row["reason"])] = row["total"]
    transfers = {(t.order_id, t.seller_id): t for t in SellerTransfer.objects.all()}
    checked = 0
    for order in Order.objects.filter(status=Order.Status.PAID, total_cents__gt=0).prefetch_related(
        "items"
    ):
        checked += 1
        expected: dict[int, int] = defaultdict(int)
        for item in order.items.all():
            expected[item.seller_id] += item.seller_payable_cents
        for seller_id, amount in expected.items():
            sale = ledger[(order.pk, seller_id, reasons.SALE)]
            transferred = -ledger[(order.pk, seller_id, reasons.TRANSFER)]
            transfer = transfers.get((order.pk, seller_id))
            if sale != amount:
                drifts.append(Drift(order.pk, seller_id, f"SALE {sale} ≠ snapshots {amount}"))
            if transfer is None:
                drifts.append(Drift(order.pk, seller_id, "no transfer recorded"))
                continue
            if transfer.amount_cents != amount:
                drifts.append(
                    Drift(
                        order.pk,
                        seller_id,
                        f"transfer {transfer.amount_cents} ≠ snapshots {amount}",
                    )
                )
            if transfer.status == SellerTransfer.Status.CREATED and transferred != amount:
                drifts.append(
                    Drift(
                        order.pk, seller_id, f"TRANSFER entries {transferred} ≠ transfer {amount}"
                    )
                )
            if transfer.status != SellerTransfer.Status.CREATED:
                drifts.append(
                    Drift(
                        order.pk,
                        seller_id,
                        f"transfer {transfer.status.lower()}: {transfer.last_error}",
                    )
                )
    for order_id, seller_id in {(k[0], k[1]) for k in ledger}:
        if not Order.objects.filter(pk=order_id, status=Order.Status.PAID).exists():
            drifts.append(Drift(order_id, seller_id, "ledger rows for an order that is not paid"))
    return checked, drifts
