"""Taking a seller's share back from their transfer after a refund or a dispute.

Opened inside the transaction that posts the REFUND or CHARGEBACK rows, attempted after
commit (and on the retry schedule), with the same key rules as transfers: a claim under
the row lock, a fresh prefixed key per attempt, a look for an existing reversal first.
A refusal (the seller's Stripe balance is short) leaves their ledger negative on the
order; `payments.payouts` settles it from their next transfer, with entries of its own.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from payments.gateway import (
    GatewayError,
    GatewayUnavailable,
    ReversalResult,
    get_gateway,
    stripe_key,
)
from payments.ledger import ledger_post
from payments.models import (
    Dispute,
    PaymentRefund,
    SellerBalanceEntry,
    SellerTransfer,
    SellerTransferReversal,
)
from payments.payouts import RETRY_MAX_CONSECUTIVE_FAILURES, retry_delay

logger = logging.getLogger(__name__)


def transfer_reversible_cents(transfer: SellerTransfer) -> int:
    """What can still be taken back from a CREATED transfer (reversals not FAILED)."""
    taken = (
        transfer.reversals.exclude(status=SellerTransferReversal.Status.FAILED).aggregate(
            s=Sum("amount_cents")
        )["s"]
        or 0
    )
    return transfer.amount_cents - taken


def seller_reversals_open(
    *,
    order_id: int,
    seller_shares: dict[int, int],
    key: str,
    payment_refund: PaymentRefund | None = None,
    dispute: Dispute | None = None,
) -> list[int]:
    """Inside the caller's transaction: one reversal per seller transfer needed to take
    `seller_shares` back, newest transfer first. A share larger than what was sent is
    taken as far as it goes (the rest is a balance the seller owes). Idempotent by key:
    `transfer-reversal-<key>-seller-<id>[-t<transfer id>]`. Returns the new ids."""
    ids = []
    for seller_id, share in sorted(seller_shares.items()):
        left = share
        transfers = SellerTransfer.objects.select_for_update().filter(
            order_id=order_id, seller_id=seller_id, status=SellerTransfer.Status.CREATED
        )
        for transfer in transfers.order_by("-sequence"):
            if left <= 0:
                break
            amount = min(left, transfer_reversible_cents(transfer))
            if amount <= 0:
                continue
            reversal, created = SellerTransferReversal.objects.get_or_create(
                idempotency_key=f"transfer-reversal-{key}-seller-{seller_id}-t{transfer.pk}",
                defaults={
                    "transfer": transfer,
                    "payment_refund": payment_refund,
                    "dispute": dispute,
                    "amount_cents": amount,
                    "currency": transfer.currency,
                },
            )
            left -= reversal.amount_cents
            if created:
                ids.append(reversal.pk)
    if ids:
        transaction.on_commit(lambda: _queue(ids), robust=True)
    return ids


def _queue(ids: list[int]) -> None:
    from payments.tasks import transfer_reversal_attempt_task

    for reversal_id in ids:
        transfer_reversal_attempt_task.delay(reversal_id)


def _claim(reversal_id: int) -> SellerTransferReversal | None:
    with transaction.atomic():
        reversal = (
            SellerTransferReversal.objects.select_for_update()
            .select_related("transfer")
            .get(pk=reversal_id)
        )
        if reversal.status != SellerTransferReversal.Status.PENDING:
            return None
        reversal.attempts += 1
        reversal.save(update_fields=["attempts", "updated_at"])
    return reversal


def transfer_reversal_attempt(*, reversal_id: int) -> SellerTransferReversal:
    """Send one PENDING reversal. Safe to run twice. A refusal is FAILED (the seller's
    balance stays negative and their next transfers settle it); an outage stays PENDING
    for `reversals_retry_due`, FAILED after RETRY_MAX_CONSECUTIVE_FAILURES."""
    reversal = _claim(reversal_id)
    if reversal is None:
        return SellerTransferReversal.objects.get(pk=reversal_id)
    transfer = reversal.transfer
    gateway = get_gateway()
    metadata = {"reversal": reversal.idempotency_key}
    try:
        found = None
        if reversal.attempts > 1:
            found = gateway.find_transfer_reversal(
                transfer_id=transfer.stripe_transfer_id, metadata=metadata
            )
        result = found or gateway.create_transfer_reversal(
            transfer_id=transfer.stripe_transfer_id,
            amount_cents=reversal.amount_cents,
            idempotency_key=stripe_key(f"{reversal.idempotency_key}-attempt-{reversal.attempts}"),
            metadata=metadata,
        )
    except GatewayUnavailable as exc:
        return _outage(reversal.pk, exc.message)
    except GatewayError as exc:
        code = f" ({exc.code})" if exc.code else ""
        return _failed(reversal.pk, f"{exc.message}{code}")
    return _created(reversal.pk, result)


@transaction.atomic
def _outage(reversal_pk: int, reason: str) -> SellerTransferReversal:
    reversal = SellerTransferReversal.objects.select_for_update().get(pk=reversal_pk)
    if reversal.status == SellerTransferReversal.Status.PENDING:
        reversal.last_error = f"Stripe unavailable (attempt {reversal.attempts}): {reason}"
        if reversal.attempts >= RETRY_MAX_CONSECUTIVE_FAILURES:
            reversal.status = SellerTransferReversal.Status.FAILED
            reversal.last_error += " — gave up retrying."
        reversal.save()
    return reversal


@transaction.atomic
def _failed(reversal_pk: int, reason: str) -> SellerTransferReversal:
    reversal = SellerTransferReversal.objects.select_for_update().get(pk=reversal_pk)
    if reversal.status == SellerTransferReversal.Status.PENDING:
        reversal.status = SellerTransferReversal.Status.FAILED
        reversal.last_error = reason
        reversal.save()
        logger.warning("reversal %s refused: %s", reversal.idempotency_key, reason)
    return reversal


@transaction.atomic
def _created(reversal_pk: int, result: ReversalResult) -> SellerTransferReversal:
    reversal = (
        SellerTransferReversal.objects.select_for_update()
        .select_related("transfer__seller", "transfer__order")
        .get(pk=reversal_pk)
    )
    if reversal.status != SellerTransferReversal.Status.CREATED:
        reversal.status = SellerTransferReversal.Status.CREATED
        reversal.stripe_reversal_id = result.id
        reversal.amount_cents = result.amount_cents or reversal.amount_cents
        reversal.last_error = ""
        reversal.save()
    transfer = reversal.transfer
    ledger_post(
        seller=transfer.seller,
        amount_cents=reversal.amount_cents,
        currency=reversal.currency,
        reason=SellerBalanceEntry.Reason.TRANSFER_REVERSAL,
        idempotency_key=reversal.idempotency_key,
        order=transfer.order,
        stripe_object_id=reversal.stripe_reversal_id,
        description=f"Taken back from transfer {transfer.stripe_transfer_id}",
    )
    return reversal


def reversals_retry_due(*, limit: int = 200) -> int:
    """Periodic: PENDING reversals whose last attempt was at least the backoff ago (or
    never attempted: a lost task)."""
    ids = []
    now = timezone.now()
    for reversal in SellerTransferReversal.objects.filter(
        status=SellerTransferReversal.Status.PENDING
    ).order_by("pk")[:limit]:
        if reversal.attempts == 0 or reversal.updated_at + retry_delay(reversal.attempts) <= now:
            ids.append(reversal.pk)
    for reversal_id in ids:
        transfer_reversal_attempt(reversal_id=reversal_id)
    return len(ids)
