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
    """Per paid order, the seller's lines from the snapshots, what refunds and disputes
    took back (their ledger rows), what they receive net, and the transfer status."""
    from django.db.models import Sum

    from orders.models import Order, OrderItem
    from payments.models import SellerBalanceEntry, SellerTransfer

    reasons = SellerBalanceEntry.Reason
    taken_back = dict(
        SellerBalanceEntry.objects.filter(
            seller=seller,
            reason__in=[reasons.REFUND, reasons.CHARGEBACK, reasons.CHARGEBACK_REVERSAL],
        )
        .values("order_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("order_id", "total")
    )

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
    for order_id, row in orders.items():
        row["refunds"] = taken_back.get(order_id, 0)
        row["receive"] = row["payable"] + row["refunds"]
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


# ------------------------------------------------------------------------------
# Staff: disputes and reconciliation pages
# ------------------------------------------------------------------------------
def dispute_list_for_staff():
    """Every dispute: open ones first (soonest evidence deadline first), then newest."""
    from django.db.models import Case, F, IntegerField, Value, When

    from payments.models import Dispute

    return Dispute.objects.select_related("order").order_by(
        Case(
            When(status__in=Dispute.OPEN, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        F("evidence_due_by").asc(nulls_last=True),
        "-created_at",
    )


def order_money_for_staff(*, order_id: int) -> dict | None:
    """Everything money about one order, for the staff reconciliation page: the line
    snapshots, seller and platform ledger rows (with per-seller sums), transfers,
    reversals, refunds, disputes, the margin and `reconcile`'s verdict on it."""
    from django.db.models import Prefetch

    from orders.models import Order, OrderItem
    from payments.models import (
        Dispute,
        PaymentRefund,
        PlatformLedgerEntry,
        SellerBalanceEntry,
        SellerTransfer,
        SellerTransferReversal,
    )
    from payments.reconcile import reconcile

    order = (
        Order.objects.prefetch_related(
            Prefetch(
                "items",
                queryset=OrderItem.objects.select_related("seller__seller_profile").order_by("id"),
            )
        )
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        return None
    entries = list(
        SellerBalanceEntry.objects.filter(order=order)
        .select_related("seller__seller_profile")
        .order_by("created_at", "id")
    )
    seller_sums: dict = {}
    for entry in entries:
        key = (entry.seller, entry.currency)
        seller_sums[key] = seller_sums.get(key, 0) + entry.amount_cents
    drifts, open_items = reconcile(order_ids=[order.pk]).for_order(order.pk)
    return {
        "order": order,
        "items": list(order.items.all()),
        "entries": entries,
        "seller_sums": [
            {"seller": seller, "currency": currency, "owed_cents": total}
            for (seller, currency), total in seller_sums.items()
        ],
        "platform_entries": list(
            PlatformLedgerEntry.objects.filter(order=order).order_by("created_at", "id")
        ),
        "margin": order_platform_margin(order_id=order.pk),
        "transfers": list(
            SellerTransfer.objects.filter(order=order)
            .select_related("seller__seller_profile")
            .order_by("created_at", "id")
        ),
        "reversals": list(
            SellerTransferReversal.objects.filter(transfer__order=order)
            .select_related("transfer__seller__seller_profile")
            .order_by("created_at", "id")
        ),
        "refunds": list(
            PaymentRefund.objects.filter(order=order)
            .select_related("order_item")
            .order_by("created_at", "id")
        ),
        "disputes": list(Dispute.objects.filter(order=order).order_by("created_at", "id")),
        "drifts": drifts,
        "open_items": open_items,
    }


def orders_with_drift() -> dict:
    """`reconcile` over every order holding money: {"checked", "orders": [{order id,
    problems}] with drift, "open_items": count}."""
    from payments.reconcile import reconcile

    report = reconcile()
    by_order: dict[int, list[str]] = {}
    for drift in report.drifts:
        by_order.setdefault(drift.order_id, []).append(drift.problem)
    return {
        "checked": report.checked,
        "orders": [
            {"order_id": order_id, "problems": problems}
            for order_id, problems in sorted(by_order.items())
        ],
        "open_items": len(report.open_items),
    }


RECONCILIATION_CSV_HEADER = [
    "order_id",
    "paid_at",
    "currency",
    "total_cents",
    "marketplace_fee_cents",
    "processing_fee_cents",
    "refunded_cents",
    "seller_shares_cents",
    "platform_margin_cents",
    "drift",
]


def reconciliation_rows(*, date_from, date_to) -> list[list]:
    """One row per order paid between two dates (inclusive, in the site's time zone), in
    cents, as RECONCILIATION_CSV_HEADER says:

    - `marketplace_fee_cents`: the platform's FEE rows; `processing_fee_cents`: Stripe's
      fee it paid (negative); `platform_margin_cents`: the sum of its rows;
    - `refunded_cents`: refunds Stripe confirmed (SUCCEEDED) on the order;
    - `seller_shares_cents`: what the sellers earned on it net of refunds and
      chargebacks (their ledger rows other than transfers and reversals);
    - `drift`: "yes" when `reconcile` finds any drift on the order.
    """
    from datetime import datetime, time, timedelta

    from django.db.models import Sum
    from django.utils import timezone

    from orders.models import Order
    from payments.models import PaymentRefund, PlatformLedgerEntry, SellerBalanceEntry
    from payments.reconcile import reconcile

    start = timezone.make_aware(datetime.combine(date_from, time.min))
    end = timezone.make_aware(datetime.combine(date_to + timedelta(days=1), time.min))
    orders = list(
        Order.objects.filter(paid_at__gte=start, paid_at__lt=end).order_by("paid_at", "id")
    )
    ids = [o.pk for o in orders]

    def sums(queryset, *keys: str) -> dict:
        return {
            tuple(row[k] for k in ("order_id", *keys)): row["total"]
            for row in queryset.values("order_id", *keys).annotate(total=Sum("amount_cents"))
        }

    # The platform's rows in the order's currency only (as `order_platform_margin`).
    platform = sums(PlatformLedgerEntry.objects.filter(order_id__in=ids), "reason", "currency")
    reasons = SellerBalanceEntry.Reason
    sellers = sums(
        # Earned net of refunds and disputes; transfers, reversals and the ADJUSTMENT
        # pairs that move a negative balance between orders are not earnings.
        SellerBalanceEntry.objects.filter(order_id__in=ids).exclude(
            reason__in=[reasons.TRANSFER, reasons.TRANSFER_REVERSAL, reasons.ADJUSTMENT]
        ),
        "currency",
    )
    refunded = sums(
        PaymentRefund.objects.filter(order_id__in=ids, status=PaymentRefund.Status.SUCCEEDED)
    )
    drifted = {d.order_id for d in reconcile(order_ids=ids).drifts} if ids else set()
    p = PlatformLedgerEntry.Reason
    rows = []
    for order in orders:
        mine = {
            reason: total
            for (oid, reason, currency), total in platform.items()
            if oid == order.pk and currency == order.currency
        }
        rows.append(
            [
                order.pk,
                timezone.localtime(order.paid_at).isoformat(timespec="seconds"),
                order.currency,
                order.total_cents,
                mine.get(p.FEE, 0),
                mine.get(p.PROCESSING_FEE, 0),
                refunded.get((order.pk,), 0),
                sellers.get((order.pk, order.currency), 0),
                sum(mine.values()),
                "yes" if order.pk in drifted else "no",
            ]
        )
    return rows


def sellers_owing() -> list[dict]:
    """Sellers whose ledger balance is below zero (a refund or dispute whose reversal
    Stripe refused), per currency, most owed first: settled from their next transfers."""
    from django.db.models import Sum

    from payments.models import SellerBalanceEntry

    rows = (
        SellerBalanceEntry.objects.values("seller_id", "seller__email", "currency")
        .annotate(balance=Sum("amount_cents"))
        .filter(balance__lt=0)
        .order_by("balance")
    )
    return [
        {
            "seller_id": r["seller_id"],
            "email": r["seller__email"],
            "currency": r["currency"],
            "owes_cents": -r["balance"],
        }
        for r in rows
    ]


def order_for_charge(*, payment_intent_id: str = "", charge_id: str = ""):
    """The order a Stripe payment intent (else charge) belongs to, or None: the one
    lookup refunds, disputes and their webhooks use."""
    from orders.models import Order

    if payment_intent_id:
        order = Order.objects.filter(stripe_payment_intent_id=payment_intent_id).first()
        if order is not None:
            return order
    if charge_id:
        return Order.objects.filter(stripe_charge_id=charge_id).first()
    return None


# ------------------------------------------------------------------------------
# Seller analytics and the staff Admin Ops page (read by analytics)
# ------------------------------------------------------------------------------
# The seller's earnings: their ledger rows other than money moving to or from their
# Stripe account (transfers, reversals) and the ADJUSTMENT pairs that only move a
# negative balance between orders — the same rows `payout_totals_for_seller` counts as
# "earned" and `reconciliation_rows` as "seller_shares".
NOT_EARNINGS = ("TRANSFER", "TRANSFER_REVERSAL", "ADJUSTMENT")


def seller_earnings_by_product(*, seller, start=None, end=None) -> dict:
    """{(product_id or None, currency): cents} the seller earned, net of fees (rows are
    posted net), refunds and chargebacks, from ledger rows created in [start, end).

    A SALE row is per order: it is split over the seller's lines of that order by their
    snapshot `seller_payable_cents` (net plus allocated shipping, the rule that posted
    it, as the payouts breakdown shows); whatever does not match the lines, and rows not
    tied to one line (an order-level chargeback), are under None. Two queries.
    """
    from django.db.models import Sum

    from orders.models import OrderItem
    from payments.models import SellerBalanceEntry

    rows = SellerBalanceEntry.objects.filter(seller=seller).exclude(reason__in=NOT_EARNINGS)
    if start is not None:
        rows = rows.filter(created_at__gte=start)
    if end is not None:
        rows = rows.filter(created_at__lt=end)
    grouped = list(
        rows.values("reason", "order_id", "order_item__product_id", "currency").annotate(
            total=Sum("amount_cents")
        )
    )
    sale = SellerBalanceEntry.Reason.SALE
    sale_orders = {
        r["order_id"] for r in grouped if r["reason"] == sale and not r["order_item__product_id"]
    }
    lines: dict[int, list] = {}
    for item in OrderItem.objects.filter(order_id__in=sale_orders, seller=seller).only(
        "order_id", "product_id", "currency", "seller_net_cents", "shipping_allocated_cents"
    ):
        lines.setdefault(item.order_id, []).append(item)
    out: dict = {}

    def add(key, cents: int) -> None:
        out[key] = out.get(key, 0) + cents

    for r in grouped:
        currency, total = r["currency"], r["total"]
        if r["reason"] == sale and not r["order_item__product_id"]:
            for item in lines.get(r["order_id"], []):
                if item.currency == currency:
                    add((item.product_id, currency), item.seller_payable_cents)
                    total -= item.seller_payable_cents
            if total:
                add((None, currency), total)
        else:
            add((r["order_item__product_id"], currency), total)
    return out


def marketplace_totals(*, start, end) -> list[dict]:
    """Per currency, for [start, end): gross sales (totals of orders paid then), the
    marketplace fees earned (platform FEE rows) and the refunds Stripe confirmed
    (SUCCEEDED PaymentRefunds, by when they were created). Three queries."""
    from django.db.models import Count, Sum

    from orders.models import Order
    from payments.models import PaymentRefund, PlatformLedgerEntry

    totals: dict[str, dict] = {}

    def slot(currency: str) -> dict:
        return totals.setdefault(
            currency, {"currency": currency, "orders": 0, "gross": 0, "fees": 0, "refunds": 0}
        )

    for r in (
        Order.objects.filter(status__in=Order.WAS_PAID, paid_at__gte=start, paid_at__lt=end)
        .values("currency")
        .annotate(n=Count("id"), total=Sum("total_cents"))
    ):
        slot(r["currency"]).update(orders=r["n"], gross=r["total"])
    for r in (
        PlatformLedgerEntry.objects.filter(
            reason=PlatformLedgerEntry.Reason.FEE, created_at__gte=start, created_at__lt=end
        )
        .values("currency")
        .annotate(total=Sum("amount_cents"))
    ):
        slot(r["currency"])["fees"] = r["total"]
    for r in (
        PaymentRefund.objects.filter(
            status=PaymentRefund.Status.SUCCEEDED, created_at__gte=start, created_at__lt=end
        )
        .values("currency")
        .annotate(total=Sum("amount_cents"))
    ):
        slot(r["currency"])["refunds"] = r["total"]
    return sorted(totals.values(), key=lambda t: t["currency"])


def sellers_holding_balance() -> list[dict]:
    """Sellers with money owed and not yet transferred (ledger balance above zero), per
    currency, most first, with whether they can be paid now (`User.can_be_paid`)."""
    from django.db.models import Sum

    from payments.models import SellerBalanceEntry

    rows = (
        SellerBalanceEntry.objects.values(
            "seller_id", "seller__email", "seller__can_be_paid", "currency"
        )
        .annotate(balance=Sum("amount_cents"))
        .filter(balance__gt=0)
        .order_by("-balance")
    )
    return [
        {
            "seller_id": r["seller_id"],
            "email": r["seller__email"],
            "ready": r["seller__can_be_paid"],
            "currency": r["currency"],
            "owed_cents": r["balance"],
        }
        for r in rows
    ]


def transfers_failed(*, limit: int = 50) -> list:
    """FAILED transfers (waiting for a person or an event), oldest first, with the error."""
    from payments.models import SellerTransfer

    return list(
        SellerTransfer.objects.filter(status=SellerTransfer.Status.FAILED)
        .select_related("seller")
        .order_by("created_at", "id")[:limit]
    )


def disputes_open():
    """Open disputes, soonest evidence deadline first."""
    from django.db.models import F

    from payments.models import Dispute

    return list(
        Dispute.objects.filter(status__in=Dispute.OPEN).order_by(
            F("evidence_due_by").asc(nulls_last=True), "created_at"
        )
    )
