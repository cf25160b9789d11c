"""The only writers of the ledgers (docs/LEDGER.md): insert-only, idempotent.

`SellerBalanceEntry` is what the marketplace owes each seller; `PlatformLedgerEntry` is
the platform's own side of each order (fee earned, Stripe's fee, refunds it funds).
Both are append-only in the database too (payments migration 0005).
"""

from django.db import IntegrityError, transaction
from django.db.models import Sum

from marketplace.models import User
from payments.models import PlatformLedgerEntry, SellerBalanceEntry


class LedgerConflict(Exception):
    """An idempotency key was reused for a different posting: a bug, never retried."""


def _insert_once(model, *, idempotency_key: str, identity: dict, extra: dict):
    """Insert a row under `idempotency_key`, or return the one already there when every
    `identity` value matches; any difference is a LedgerConflict. (row, created)."""
    try:
        with transaction.atomic():
            return model.objects.create(idempotency_key=idempotency_key, **identity, **extra), True
    except IntegrityError:
        entry = model.objects.filter(idempotency_key=idempotency_key).first()
        if entry is None:
            raise
    differs = [name for name, value in identity.items() if getattr(entry, name) != value]
    if differs:
        raise LedgerConflict(
            f"{idempotency_key} was posted with different values ({', '.join(differs)})"
        )
    return entry, False


def ledger_post(
    *,
    seller: User,
    amount_cents: int,
    currency: str,
    reason: str,
    idempotency_key: str,
    order=None,
    order_item=None,
    stripe_object_id: str = "",
    description: str = "",
) -> tuple[SellerBalanceEntry, bool]:
    """Insert one seller-ledger row, or return the row already posted under the key.

    Returns (entry, created). Safe under concurrency: the unique key decides the race,
    and the loser reads the winner's row. A key reused with a different seller, order,
    line, amount, currency or reason raises LedgerConflict instead of passing silently.
    """
    return _insert_once(
        SellerBalanceEntry,
        idempotency_key=idempotency_key,
        identity={
            "seller_id": seller.pk,
            "order_id": getattr(order, "pk", order),
            "order_item_id": getattr(order_item, "pk", order_item),
            "amount_cents": amount_cents,
            "currency": currency,
            "reason": reason,
        },
        extra={"stripe_object_id": stripe_object_id, "description": description[:300]},
    )


def platform_post(
    *,
    order,
    amount_cents: int,
    currency: str,
    reason: str,
    idempotency_key: str,
    stripe_object_id: str = "",
    description: str = "",
) -> tuple[PlatformLedgerEntry, bool]:
    """Insert one platform-ledger row once (same rules as `ledger_post`)."""
    return _insert_once(
        PlatformLedgerEntry,
        idempotency_key=idempotency_key,
        identity={
            "order_id": getattr(order, "pk", order),
            "amount_cents": amount_cents,
            "currency": currency,
            "reason": reason,
        },
        extra={"stripe_object_id": stripe_object_id, "description": description[:300]},
    )


def seller_balance_cents(*, seller: User, currency: str) -> int:
    """What the marketplace owes `seller` in `currency` now (Σ of their entries)."""
    total = SellerBalanceEntry.objects.filter(seller=seller, currency=currency).aggregate(
        s=Sum("amount_cents")
    )["s"]
    return total or 0


def seller_owed_on_order_cents(*, order_id: int, seller_id: int, currency: str) -> int:
    """What the seller is still owed on one order: Σ of everything posted for it (SALE,
    TRANSFER, refunds, chargebacks…), so a transfer never pays a cent twice."""
    total = SellerBalanceEntry.objects.filter(
        order_id=order_id, seller_id=seller_id, currency=currency
    ).aggregate(s=Sum("amount_cents"))["s"]
    return total or 0
