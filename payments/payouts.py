"""Paying sellers after an order is paid: one Transfer per seller, and the ledger rows
docs/LEDGER.md names (SALE when paid, TRANSFER when the money leaves)."""

import logging
from collections import defaultdict

from django.db import transaction

from orders.models import Order, OrderEvent, OrderItem
from payments.ledger import ledger_post
from payments.models import SellerBalanceEntry, SellerStripeAccount, SellerTransfer

logger = logging.getLogger(__name__)


def sale_key(order_id: int, seller_id: int) -> str:
    return f"sale-order-{order_id}-seller-{seller_id}"


def transfer_key(order_id: int, seller_id: int) -> str:
    return f"transfer-order-{order_id}-seller-{seller_id}"


def order_payout(*, order_id: int) -> list[SellerTransfer]:
    """Post SALE and create the Transfer for every seller of a paid order.

    Idempotent and resumable: ledger rows and transfers are keyed by (order, seller);
    a transfer already CREATED is skipped, and Stripe deduplicates a retried create by
    the same idempotency key. The network call happens outside any transaction. A
    seller without a connected account, or whose transfer Stripe refuses, gets a FAILED
    transfer with the reason, visible to staff, and the run goes on for the others; an
    outage (`GatewayUnavailable`) is raised for the task to retry. Free orders post nothing.
    """
    order = Order.objects.get(pk=order_id)
    if order.status != Order.Status.PAID or order.total_cents == 0:
        return []
    from payments.gateway import GatewayError, GatewayUnavailable, get_gateway

    lines: dict[int, list[OrderItem]] = defaultdict(list)
    for item in order.items.select_related("seller"):
        lines[item.seller_id].append(item)
    transfers = []
    for seller_id, items in sorted(lines.items()):
        seller = items[0].seller
        amount = sum(i.seller_payable_cents for i in items)
        if amount <= 0:
            continue
        account = SellerStripeAccount.objects.filter(seller_id=seller_id).first()
        with transaction.atomic():
            ledger_post(
                seller=seller,
                amount_cents=amount,
                currency=order.currency,
                reason=SellerBalanceEntry.Reason.SALE,
                idempotency_key=sale_key(order.pk, seller_id),
                order=order,
                description=f"Order {order.pk}: {len(items)} item(s)",
            )
            transfer, _ = SellerTransfer.objects.get_or_create(
                order=order,
                seller=seller,
                defaults={
                    "amount_cents": amount,
                    "currency": order.currency,
                    "destination_account": account.stripe_account_id if account else "",
                    "idempotency_key": transfer_key(order.pk, seller_id),
                },
            )
        if transfer.status == SellerTransfer.Status.CREATED:
            transfers.append(transfer)
            continue
        if account is None:
            _transfer_failed(transfer.pk, "The seller has no connected Stripe account.")
            continue
        try:
            stripe_transfer_id = get_gateway().create_transfer(
                amount_cents=amount,
                currency=order.currency,
                destination=account.stripe_account_id,
                source_transaction=order.stripe_charge_id,
                transfer_group=order.transfer_group,
                idempotency_key=transfer.idempotency_key,
                metadata={"order_id": str(order.pk), "seller_id": str(seller_id)},
            )
        except GatewayUnavailable:
            raise
        except GatewayError as exc:
            logger.warning("transfer %s refused: %s", transfer.idempotency_key, exc.message)
            code = f" ({exc.code})" if exc.code else ""
            _transfer_failed(transfer.pk, f"{exc.message}{code}")
            continue
        transfers.append(
            _transfer_created(transfer.pk, stripe_transfer_id, account.stripe_account_id)
        )
    return transfers


@transaction.atomic
def _transfer_failed(transfer_pk: int, reason: str) -> None:
    """Mark a not-yet-created transfer FAILED with why; a CREATED one is never touched."""
    transfer = SellerTransfer.objects.select_for_update().get(pk=transfer_pk)
    if transfer.status != SellerTransfer.Status.CREATED:
        transfer.status = SellerTransfer.Status.FAILED
        transfer.last_error = reason
        transfer.save(update_fields=["status", "last_error", "updated_at"])


@transaction.atomic
def _transfer_created(
    transfer_pk: int, stripe_transfer_id: str, destination: str
) -> SellerTransfer:
    transfer = (
        SellerTransfer.objects.select_for_update().select_related("order").get(pk=transfer_pk)
    )
    if transfer.status != SellerTransfer.Status.CREATED:
        transfer.status = SellerTransfer.Status.CREATED
        transfer.stripe_transfer_id = stripe_transfer_id
        # Where the money went: the row may predate the seller's account (FAILED first).
        transfer.destination_account = destination
        transfer.last_error = ""
        transfer.save()
        OrderEvent.objects.create(
            order=transfer.order,
            kind=OrderEvent.Kind.TRANSFER_CREATED,
            data={
                "seller_id": transfer.seller_id,
                "transfer": stripe_transfer_id,
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
        stripe_object_id=stripe_transfer_id,
        description=f"Transfer for order {transfer.order_id}",
    )
    return transfer
