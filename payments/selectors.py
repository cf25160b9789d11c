from django.db.models import Q

from payments.models import SellerStripeAccount

# The one definition of "this seller can be paid". `payments.readiness` copies it onto
# `User.can_be_paid`, which is what catalog and checkout read.
READY = Q(
    details_submitted=True,
    charges_enabled=True,
    payouts_enabled=True,
    disconnected_at__isnull=True,
)


def seller_is_payment_ready(*, seller_id: int) -> bool:
    return SellerStripeAccount.objects.filter(READY, seller_id=seller_id).exists()


# ------------------------------------------------------------------------------
# Seller payouts dashboard
# ------------------------------------------------------------------------------
def ledger_entries_for_seller(*, seller, reason: str | None = None, date_from=None, date_to=None):
    """The seller's ledger rows with `running_balance` (over ALL their rows, so a filter
    never changes a row's balance), newest first."""
    from django.db.models import F, Sum, Window

    from payments.models import SellerBalanceEntry

    rows = SellerBalanceEntry.objects.filter(seller=seller).annotate(
        running_balance=Window(
            Sum("amount_cents"), partition_by=[F("currency")], order_by=[F("created_at"), F("id")]
        )
    )
    # Filter after the window: wrap as a subquery-free list filter to keep balances true.
    rows = list(rows.select_related("order").order_by("-created_at", "-id"))
    if reason:
        rows = [r for r in rows if r.reason == reason]
    if date_from:
        rows = [r for r in rows if r.created_at.date() >= date_from]
    if date_to:
        rows = [r for r in rows if r.created_at.date() <= date_to]
    return rows


def payout_totals_for_seller(*, seller) -> dict[str, dict[str, int]]:
    """{currency: {"earned", "transferred", "pending"}} in cents. Earned counts sales
    less refunds and chargebacks; pending is what is still owed (the balance)."""
    from django.db.models import Sum

    from payments.models import SellerBalanceEntry

    reasons = SellerBalanceEntry.Reason
    totals: dict[str, dict[str, int]] = {}
    rows = (
        SellerBalanceEntry.objects.filter(seller=seller)
        .values("currency", "reason")
        .annotate(total=Sum("amount_cents"))
    )
    for row in rows:
        t = totals.setdefault(row["currency"], {"earned": 0, "transferred": 0, "pending": 0})
        if row["reason"] in (reasons.TRANSFER, reasons.TRANSFER_REVERSAL):
            t["transferred"] -= row["total"]
        else:
            t["earned"] += row["total"]
        t["pending"] += row["total"]
    return totals


def payout_breakdown_by_order(*, seller) -> list[dict]:
    """Per paid order, the seller's lines from the snapshots and the transfer status."""
    from orders.models import Order, OrderItem
    from payments.models import SellerTransfer

    items = (
        OrderItem.objects.filter(seller=seller, order__status__in=Order.WAS_PAID)
        .select_related("order")
        .order_by("-order__paid_at", "order_id", "id")
    )
    # The latest transfer of each order (a top-up follows the first).
    transfers = {
        t.order_id: t for t in SellerTransfer.objects.filter(seller=seller).order_by("sequence")
    }
    orders: dict[int, dict] = {}
    for item in items:
        row = orders.setdefault(
            item.order_id,
            {
                "order": item.order,
                "items": [],
                "subtotal": 0,
                "fee": 0,
                "net": 0,
                "shipping": 0,
                "payable": 0,
                "transfer": transfers.get(item.order_id),
            },
        )
        row["items"].append(item)
        row["subtotal"] += item.subtotal_cents
        row["fee"] += item.marketplace_fee_cents
        row["net"] += item.seller_net_cents
        row["shipping"] += item.shipping_allocated_cents
        row["payable"] += item.seller_payable_cents
    return list(orders.values())


# ------------------------------------------------------------------------------
# The platform's side of an order
# ------------------------------------------------------------------------------
def order_platform_margin(*, order_id: int) -> dict:
    """What the marketplace made on one order, from the platform ledger: the fee it
    earned, Stripe's processing fee it paid, refunds it funded, and their sum (cents,
    in the order's currency; a fee settled in another currency is left out)."""
    from django.db.models import Sum

    from orders.models import Order
    from payments.models import PlatformLedgerEntry

    currency = Order.objects.values_list("currency", flat=True).get(pk=order_id)
    sums = dict(
        PlatformLedgerEntry.objects.filter(order_id=order_id, currency=currency)
        .values("reason")
        .annotate(total=Sum("amount_cents"))
        .values_list("reason", "total")
    )
    reasons = PlatformLedgerEntry.Reason
    return {
        "currency": currency,
        "fee_cents": sums.get(reasons.FEE, 0),
        "processing_fee_cents": sums.get(reasons.PROCESSING_FEE, 0),
        "refunds_cents": sums.get(reasons.REFUND, 0),
        "margin_cents": sum(sums.values()),
    }
