"""Paying sellers after an order is paid: one Transfer per seller, and the ledger rows
docs/LEDGER.md names (SALE when paid, TRANSFER when the money leaves), plus the
platform's FEE row.

A transfer is attempted at once and then, until it succeeds or needs a person, on a
schedule with backoff (`transfers_retry_due`, on beat). What is sent is what the seller
is still owed on the order (Σ of everything posted for it), so a later refund or
chargeback can never make us pay twice. Each attempt claims the row under a lock before
the network call, so two workers never send the same attempt; every attempt after the
first asks Stripe for an existing transfer of the order and seller before creating one
with a fresh key (Stripe saves a key's first answer, errors included, and may forget a
key after 24 hours).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from orders.models import Order, OrderEvent, OrderItem
from payments.gateway import (
    GatewayError,
    GatewayUnavailable,
    TransferResult,
    get_gateway,
    stripe_key,
)
from payments.ledger import ledger_post, platform_post, seller_owed_on_order_cents
from payments.models import (
    PlatformLedgerEntry,
    SellerBalanceEntry,
    SellerStripeAccount,
    SellerTransfer,
    SellerTransferReversal,
)

logger = logging.getLogger(__name__)

# Backoff after an outage: 1, 2, 4 … minutes, at most 6 hours apart; after this many
# outages in a row (about two days) the transfer waits for a person (FAILED).
RETRY_FIRST_DELAY = timedelta(minutes=1)
RETRY_MAX_DELAY = timedelta(hours=6)
RETRY_MAX_CONSECUTIVE_FAILURES = 16


def sale_key(order_id: int, seller_id: int) -> str:
    return f"sale-order-{order_id}-seller-{seller_id}"


def transfer_key(order_id: int, seller_id: int, sequence: int = 1) -> str:
    base = f"transfer-order-{order_id}-seller-{seller_id}"
    return base if sequence == 1 else f"{base}-{sequence}"


def platform_fee_key(order_id: int) -> str:
    return f"platform-fee-order-{order_id}"


def transfer_metadata(order_id: int, seller_id: int) -> dict[str, str]:
    """What ties a Stripe Transfer to our (order, seller): used to find it again."""
    return {"order_id": str(order_id), "seller_id": str(seller_id)}


def retry_delay(consecutive_failures: int) -> timedelta:
    steps = max(consecutive_failures - 1, 0)
    if steps > 20:
        return RETRY_MAX_DELAY
    return min(RETRY_FIRST_DELAY * (2**steps), RETRY_MAX_DELAY)


def order_payout(*, order_id: int) -> list[SellerTransfer]:
    """Post SALE, the platform FEE, and attempt the Transfer for every seller of a paid
    order. Returns the transfers that are CREATED.

    Idempotent and resumable: ledger rows and transfers are keyed by (order, seller).
    A seller whose share is 0 (a free file in a paid cart) gets nothing. One seller's
    refusal or outage never stops the others: it is recorded on their transfer (FAILED
    with the reason, or PENDING with the next attempt time). Free orders post nothing.
    """
    order = Order.objects.get(pk=order_id)
    if order.status not in Order.WAS_PAID or order.total_cents == 0:
        return []
    lines: dict[int, list[OrderItem]] = defaultdict(list)
    for item in order.items.select_related("seller"):
        lines[item.seller_id].append(item)
    fee = sum(i.marketplace_fee_cents for items in lines.values() for i in items)
    if fee:
        platform_post(
            order=order,
            amount_cents=fee,
            currency=order.currency,
            reason=PlatformLedgerEntry.Reason.FEE,
            idempotency_key=platform_fee_key(order.pk),
            description=f"Order {order.pk}: marketplace fee",
        )
    created = []
    for seller_id, items in sorted(lines.items()):
        amount = sum(i.seller_payable_cents for i in items)
        if amount <= 0:
            continue
        with transaction.atomic():
            ledger_post(
                seller=items[0].seller,
                amount_cents=amount,
                currency=order.currency,
                reason=SellerBalanceEntry.Reason.SALE,
                idempotency_key=sale_key(order.pk, seller_id),
                order=order,
                description=f"Order {order.pk}: {len(items)} item(s)",
            )
            transfer = _current_transfer(order, seller_id)
        if transfer is None:
            continue
        transfer = transfer_attempt(transfer_id=transfer.pk)
        if transfer.status == SellerTransfer.Status.CREATED:
            created.append(transfer)
    return created


def _current_transfer(order: Order, seller_id: int) -> SellerTransfer | None:
    """Inside a transaction: the seller's transfer for the order to work on — the first
    one, or a top-up when the last is done and money is owed on the order again (a
    dispute won after its reversal). None when nothing is owed and all are done."""
    latest = (
        SellerTransfer.objects.select_for_update()
        .filter(order=order, seller_id=seller_id)
        .order_by("-sequence")
        .first()
    )
    if latest is not None and latest.status in (
        SellerTransfer.Status.PENDING,
        SellerTransfer.Status.FAILED,
    ):
        return latest
    sequence = 1 if latest is None else latest.sequence + 1
    owed = seller_owed_on_order_cents(
        order_id=order.pk, seller_id=seller_id, currency=order.currency
    )
    if latest is not None and owed <= 0:
        return latest
    transfer, _ = SellerTransfer.objects.get_or_create(
        order=order,
        seller_id=seller_id,
        sequence=sequence,
        defaults={
            "amount_cents": max(owed, 1),
            "currency": order.currency,
            "destination_account": "",
            "idempotency_key": transfer_key(order.pk, seller_id, sequence),
            "next_attempt_at": timezone.now(),
        },
    )
    return transfer


def _settle_negative_balances(*, transfer: SellerTransfer, owed: int) -> int:
    """Inside the claim (seller's account row locked): what the seller owes on other
    orders (a refund or dispute whose reversal Stripe refused) is taken from this
    transfer first, as a pair of ADJUSTMENT rows per order — minus here, plus there —
    so each order's ledger explains its own cents. Returns what is left to send."""
    from django.db.models import Sum

    debts = (
        SellerBalanceEntry.objects.filter(
            seller_id=transfer.seller_id, currency=transfer.currency, order__isnull=False
        )
        .exclude(order_id=transfer.order_id)
        .values("order_id")
        .annotate(owed=Sum("amount_cents"))
        .filter(owed__lt=0)
        .order_by("order_id")
    )
    # A debt whose reversal is still being sent may yet be paid back by Stripe.
    in_flight = set(
        SellerTransferReversal.objects.filter(
            transfer__seller_id=transfer.seller_id, status=SellerTransferReversal.Status.PENDING
        ).values_list("transfer__order_id", flat=True)
    )
    for debt in debts:
        if owed <= 0:
            break
        if debt["order_id"] in in_flight:
            continue
        amount = min(owed, -debt["owed"])
        n = (
            SellerBalanceEntry.objects.filter(
                seller_id=transfer.seller_id,
                idempotency_key__startswith=f"settle-order-{debt['order_id']}-by-order-"
                f"{transfer.order_id}-seller-{transfer.seller_id}-",
            ).count()
            + 1
        )
        base = (
            f"order-{debt['order_id']}-by-order-{transfer.order_id}-seller-{transfer.seller_id}-{n}"
        )
        ledger_post(
            seller=transfer.seller,
            amount_cents=-amount,
            currency=transfer.currency,
            reason=SellerBalanceEntry.Reason.ADJUSTMENT,
            idempotency_key=f"settle-{base}",
            order=transfer.order,
            description=f"Settles what you owed on order {debt['order_id']}",
        )
        ledger_post(
            seller=transfer.seller,
            amount_cents=amount,
            currency=transfer.currency,
            reason=SellerBalanceEntry.Reason.ADJUSTMENT,
            idempotency_key=f"settled-{base}",
            order=debt["order_id"],
            description=f"Settled from order {transfer.order_id}",
        )
        owed -= amount
    return owed


def _claim(transfer_id: int) -> tuple[SellerTransfer, int] | None:
    """Lock the transfer and decide whether to send it now. Returns (transfer, amount)
    with the attempt recorded, or None when there is nothing to send (done, waiting for
    its time, or settled here as CANCELED/FAILED)."""
    now = timezone.now()
    with transaction.atomic():
        transfer = (
            SellerTransfer.objects.select_for_update()
            .select_related("order", "seller")
            .get(pk=transfer_id)
        )
        if transfer.status != SellerTransfer.Status.PENDING:
            return None
        if transfer.next_attempt_at and transfer.next_attempt_at > now:
            return None
        order = transfer.order
        # The seller's account row is the lock for their balance across orders.
        account = (
            SellerStripeAccount.objects.select_for_update()
            .filter(seller_id=transfer.seller_id)
            .first()
        )
        owed = seller_owed_on_order_cents(
            order_id=order.pk, seller_id=transfer.seller_id, currency=transfer.currency
        )
        if owed > 0 and account is not None and account.is_ready and order.stripe_charge_id:
            owed = _settle_negative_balances(transfer=transfer, owed=owed)
        if owed <= 0:
            transfer.status = SellerTransfer.Status.CANCELED
            transfer.last_error = "Nothing is owed on this order any more."
            transfer.save(update_fields=["status", "last_error", "updated_at"])
            return None
        problem = ""
        if account is None:
            problem = "The seller has no connected Stripe account."
        elif not account.is_ready:
            problem = "The seller's Stripe account cannot receive payouts yet" + (
                f" (disconnected: {account.disconnect_reason})." if account.disconnected_at else "."
            )
        if not problem and not order.stripe_charge_id:
            # Never sent without source_transaction: the money must come from this charge.
            # Wait for it (the follow-ups fetch it from the session) like an outage.
            transfer.consecutive_failures += 1
            transfer.last_error = "The order's charge is not known yet."
            transfer.next_attempt_at = now + retry_delay(transfer.consecutive_failures)
            transfer.save()
            return None
        if problem:
            transfer.status = SellerTransfer.Status.FAILED
            transfer.last_error = problem
            transfer.save(update_fields=["status", "last_error", "updated_at"])
            return None
        transfer.attempts += 1
        transfer.amount_cents = owed
        transfer.destination_account = account.stripe_account_id
        transfer.first_attempt_at = transfer.first_attempt_at or now
        transfer.last_attempt_at = now
        # The claim: a concurrent runner sees the next attempt in the future and skips.
        transfer.next_attempt_at = now + retry_delay(transfer.consecutive_failures + 1)
        transfer.save()
    return transfer, owed


def transfer_attempt(*, transfer_id: int) -> SellerTransfer:
    """Send one PENDING transfer if it is due. Safe to run twice and concurrently.

    The network call happens outside any transaction, after the claim. An outage leaves
    it PENDING for the next scheduled attempt (FAILED after RETRY_MAX_CONSECUTIVE_FAILURES
    in a row); a refusal makes it FAILED with Stripe's reason, for staff.
    """
    claimed = _claim(transfer_id)
    if claimed is None:
        return SellerTransfer.objects.get(pk=transfer_id)
    transfer, amount = claimed
    order = transfer.order
    gateway = get_gateway()
    metadata = transfer_metadata(order.pk, transfer.seller_id)
    try:
        found = None
        if transfer.attempts > 1:
            found = gateway.find_transfer(transfer_group=order.transfer_group, metadata=metadata)
        result = found or gateway.create_transfer(
            amount_cents=amount,
            currency=transfer.currency,
            destination=transfer.destination_account,
            source_transaction=order.stripe_charge_id,
            transfer_group=order.transfer_group,
            idempotency_key=stripe_key(f"{transfer.idempotency_key}-attempt-{transfer.attempts}"),
            metadata=metadata,
        )
    except GatewayUnavailable as exc:
        logger.warning("transfer %s: Stripe unavailable: %s", transfer.idempotency_key, exc)
        return _transfer_outage(transfer.pk, exc.message)
    except GatewayError as exc:
        logger.warning("transfer %s refused: %s", transfer.idempotency_key, exc.message)
        code = f" ({exc.code})" if exc.code else ""
        return _transfer_failed(transfer.pk, f"{exc.message}{code}")
    return _transfer_created(transfer.pk, result)


def outage_record(row, reason: str, *, failed_status: str, since) -> None:
    """After an outage, on a locked transfer or refund row: back off (1, 2, 4 … minutes
    from `since`, at most 6 hours), or give up after RETRY_MAX_CONSECUTIVE_FAILURES in a
    row (`failed_status`, for a person). Saves the row."""
    row.consecutive_failures += 1
    row.last_error = f"Stripe unavailable (attempt {row.attempts}): {reason}"
    if row.consecutive_failures >= RETRY_MAX_CONSECUTIVE_FAILURES:
        row.status = failed_status
        row.last_error += " — gave up retrying; needs a person."
        row.next_attempt_at = None
    else:
        row.next_attempt_at = since + retry_delay(row.consecutive_failures)
    row.save()


@transaction.atomic
def _transfer_outage(transfer_pk: int, reason: str) -> SellerTransfer:
    transfer = SellerTransfer.objects.select_for_update().get(pk=transfer_pk)
    if transfer.status == SellerTransfer.Status.PENDING:
        outage_record(
            transfer,
            reason,
            failed_status=SellerTransfer.Status.FAILED,
            since=transfer.last_attempt_at or timezone.now(),
        )
    return transfer


@transaction.atomic
def _transfer_failed(transfer_pk: int, reason: str) -> SellerTransfer:
    """Mark a not-yet-created transfer FAILED with why; a CREATED one is never touched."""
    transfer = SellerTransfer.objects.select_for_update().get(pk=transfer_pk)
    if transfer.status == SellerTransfer.Status.PENDING:
        transfer.status = SellerTransfer.Status.FAILED
        transfer.last_error = reason
        transfer.consecutive_failures = 0
        transfer.next_attempt_at = None
        transfer.save()
    return transfer


@transaction.atomic
def _transfer_created(transfer_pk: int, result: TransferResult) -> SellerTransfer:
    """Record what Stripe actually moved, and the TRANSFER row for exactly that amount."""
    transfer = (
        SellerTransfer.objects.select_for_update().select_related("order").get(pk=transfer_pk)
    )
    if transfer.status != SellerTransfer.Status.CREATED:
        transfer.status = SellerTransfer.Status.CREATED
        transfer.stripe_transfer_id = result.id
        transfer.amount_cents = result.amount_cents
        transfer.currency = result.currency or transfer.currency
        # Where the money went: the row may predate the seller's account (FAILED first).
        transfer.destination_account = result.destination or transfer.destination_account
        transfer.last_error = ""
        transfer.consecutive_failures = 0
        transfer.next_attempt_at = None
        transfer.save()
        OrderEvent.objects.create(
            order=transfer.order,
            kind=OrderEvent.Kind.TRANSFER_CREATED,
            data={
                "seller_id": transfer.seller_id,
                "transfer": result.id,
                "amount_cents": transfer.amount_cents,
            },
        )
    ledger_post(
        seller=transfer.seller,
        amount_cents=-transfer.amount_cents,
        currency=transfer.currency,
        reason=SellerBalanceEntry.Reason.TRANSFER,
        idempotency_key=transfer.idempotency_key,
        order=transfer.order,
        stripe_object_id=transfer.stripe_transfer_id,
        description=f"Transfer for order {transfer.order_id}",
    )
    return transfer


def transfers_retry_due(*, limit: int = 200) -> int:
    """Periodic: attempt every PENDING transfer whose time has come (after an outage,
    or whose first attempt was lost with its task). Returns how many were attempted."""
    now = timezone.now()
    ids = list(
        SellerTransfer.objects.filter(status=SellerTransfer.Status.PENDING)
        .exclude(next_attempt_at__gt=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for transfer_id in ids:
        transfer_attempt(transfer_id=transfer_id)
    return len(ids)


def seller_transfers_reopen(*, seller_id: int) -> list[int]:
    """A seller became ready (or staff fixed the cause): their FAILED transfers go back
    to PENDING, due now, with a fresh backoff. Returns their ids, for the caller to
    attempt after commit. CREATED and CANCELED transfers are never touched."""
    with transaction.atomic():
        ids = list(
            SellerTransfer.objects.select_for_update()
            .filter(seller_id=seller_id, status=SellerTransfer.Status.FAILED)
            .values_list("pk", flat=True)
        )
        SellerTransfer.objects.filter(pk__in=ids).update(
            status=SellerTransfer.Status.PENDING,
            next_attempt_at=timezone.now(),
            consecutive_failures=0,
            updated_at=timezone.now(),
        )
    return ids


def seller_transfers_retry(*, seller_id: int) -> int:
    """Reopen and attempt a seller's FAILED transfers now. Returns how many were sent."""
    sent = 0
    for transfer_id in seller_transfers_reopen(seller_id=seller_id):
        transfer = transfer_attempt(transfer_id=transfer_id)
        sent += transfer.status == SellerTransfer.Status.CREATED
    return sent
