"""The only writer of `SellerBalanceEntry` (docs/LEDGER.md): insert-only, idempotent."""

from django.db import IntegrityError, transaction
from django.db.models import Sum

from marketplace.models import User
from payments.models import SellerBalanceEntry


class LedgerConflict(Exception):
    """An idempotency key was reused for a different posting: a bug, never retried."""


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
    """Insert one ledger row, or return the row already posted under `idempotency_key`.

    Returns (entry, created). Safe under concurrency: the unique key decides the race,
    and the loser reads the winner's row. A key reused with a different amount, reason
    or seller raises LedgerConflict instead of silently passing.
    """
    try:
        with transaction.atomic():
            entry = SellerBalanceEntry.objects.create(
                seller=seller,
                amount_cents=amount_cents,
                currency=currency,
                reason=reason,
                idempotency_key=idempotency_key,
                order=order,
                order_item=order_item,
                stripe_object_id=stripe_object_id,
                description=description[:300],
            )
            return entry, True
    except IntegrityError:
        entry = SellerBalanceEntry.objects.filter(idempotency_key=idempotency_key).first()
        if entry is None:
            raise
    if (entry.seller_id, entry.amount_cents, entry.currency, entry.reason) != (
        seller.pk,
        amount_cents,
        currency,
        reason,
    ):
        raise LedgerConflict(f"{idempotency_key} was posted with different values")
    return entry, False


def seller_balance_cents(*, seller: User, currency: str) -> int:
    """What the marketplace owes `seller` in `currency` now (Σ of their entries)."""
    total = SellerBalanceEntry.objects.filter(seller=seller, currency=currency).aggregate(
        s=Sum("amount_cents")
    )["s"]
    return total or 0
