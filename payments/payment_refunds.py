"""Sending a `PaymentRefund` to Stripe: claimed under a lock, retried with backoff after
an outage, a fresh key per attempt and a look for an existing refund first (the same
rules as transfers, `payments.payouts`)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from orders.models import OrderEvent
from payments.gateway import GatewayError, GatewayUnavailable, RefundResult, get_gateway, stripe_key
from payments.models import PaymentRefund
from payments.payouts import RETRY_MAX_CONSECUTIVE_FAILURES, retry_delay

logger = logging.getLogger(__name__)


def refund_metadata(refund: PaymentRefund) -> dict[str, str]:
    return {"order_id": str(refund.order_id), "refund": refund.idempotency_key}


def _claim(refund_id: int) -> PaymentRefund | None:
    now = timezone.now()
    with transaction.atomic():
        refund = PaymentRefund.objects.select_for_update().get(pk=refund_id)
        if refund.status != PaymentRefund.Status.PENDING:
            return None
        if refund.next_attempt_at and refund.next_attempt_at > now:
            return None
        if not refund.payment_intent_id:
            refund.status = PaymentRefund.Status.FAILED
            refund.last_error = "The payment intent is not known: refund it in Stripe by hand."
            refund.save()
            return None
        refund.attempts += 1
        refund.next_attempt_at = now + retry_delay(refund.consecutive_failures + 1)
        refund.save()
    return refund


def payment_refund_attempt(*, refund_id: int) -> PaymentRefund:
    """Send one PENDING refund if it is due. Safe to run twice and concurrently."""
    refund = _claim(refund_id)
    if refund is None:
        return PaymentRefund.objects.get(pk=refund_id)
    gateway = get_gateway()
    metadata = refund_metadata(refund)
    try:
        found = None
        if refund.attempts > 1:
            found = gateway.find_refund(
                payment_intent_id=refund.payment_intent_id, metadata=metadata
            )
        result = found or gateway.create_refund(
            payment_intent_id=refund.payment_intent_id,
            amount_cents=refund.amount_cents,
            idempotency_key=stripe_key(f"{refund.idempotency_key}-attempt-{refund.attempts}"),
            metadata=metadata,
        )
    except GatewayUnavailable as exc:
        return _refund_outage(refund.pk, exc.message)
    except GatewayError as exc:
        return _refund_failed(refund.pk, exc.message)
    return _refund_sent(refund.pk, result)


@transaction.atomic
def _refund_outage(refund_pk: int, reason: str) -> PaymentRefund:
    refund = PaymentRefund.objects.select_for_update().get(pk=refund_pk)
    if refund.status != PaymentRefund.Status.PENDING:
        return refund
    refund.consecutive_failures += 1
    refund.last_error = f"Stripe unavailable (attempt {refund.attempts}): {reason}"
    if refund.consecutive_failures >= RETRY_MAX_CONSECUTIVE_FAILURES:
        refund.status = PaymentRefund.Status.FAILED
        refund.last_error += " — gave up retrying; needs a person."
        refund.next_attempt_at = None
    else:
        refund.next_attempt_at = timezone.now() + retry_delay(refund.consecutive_failures)
    refund.save()
    return refund


@transaction.atomic
def _refund_failed(refund_pk: int, reason: str) -> PaymentRefund:
    refund = PaymentRefund.objects.select_for_update().get(pk=refund_pk)
    if refund.status == PaymentRefund.Status.PENDING:
        refund.status = PaymentRefund.Status.FAILED
        refund.last_error = reason
        refund.next_attempt_at = None
        refund.save()
        logger.error("refund %s refused by Stripe: %s", refund.idempotency_key, reason)
    return refund


@transaction.atomic
def _refund_sent(refund_pk: int, result: RefundResult) -> PaymentRefund:
    refund = PaymentRefund.objects.select_for_update().select_related("order").get(pk=refund_pk)
    if refund.status == PaymentRefund.Status.SUCCEEDED:
        return refund
    refund.status = PaymentRefund.Status.SUCCEEDED
    refund.stripe_refund_id = result.id
    refund.amount_cents = result.amount_cents or refund.amount_cents
    refund.refunded_at = timezone.now()
    refund.last_error = ""
    refund.next_attempt_at = None
    refund.save()
    OrderEvent.objects.create(
        order=refund.order,
        kind=OrderEvent.Kind.REFUND,
        message="Your payment was refunded in full: the order could not be completed.",
        data={"refund": result.id, "amount_cents": refund.amount_cents},
    )
    transaction.on_commit(lambda: _email_buyer(refund_pk), robust=True)
    return refund


def _email_buyer(refund_id: int) -> None:
    from payments.tasks import payment_refunded_email_task

    payment_refunded_email_task.delay(refund_id)


def payment_refunds_retry_due(*, limit: int = 200) -> int:
    """Periodic: attempt every PENDING refund whose time has come."""
    now = timezone.now()
    ids = list(
        PaymentRefund.objects.filter(status=PaymentRefund.Status.PENDING)
        .exclude(next_attempt_at__gt=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for refund_id in ids:
        payment_refund_attempt(refund_id=refund_id)
    return len(ids)
