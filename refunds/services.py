"""Every write of refund requests. The rules (who may ask, how much, until when) live
in `refunds.policy`; the money is payments' (`payment_refund_open_for_line`), which
posts the ledger rows when Stripe confirms and tells us back through its hooks.

Each transition locks the request, checks `RefundRequest.TRANSITIONS`, writes an
OrderEvent in the same transaction and sends its emails after commit.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from marketplace.audit import staff_action
from marketplace.exceptions import ApplicationError
from marketplace.models import User
from orders.models import OrderEvent, OrderItem
from payments.models import PaymentRefund
from payments.payment_refunds import payment_refund_open_for_line, payment_refund_reopen
from refunds.models import RefundRequest
from refunds.policy import refund_ask_refusal, refund_max_cents, refund_needs_decision

logger = logging.getLogger(__name__)


def _event(request: RefundRequest, message: str, actor: User | None = None, **data) -> None:
    OrderEvent.objects.create(
        order_id=request.order_item.order_id,
        item=request.order_item,
        kind=OrderEvent.Kind.REFUND,
        message=message[:300],
        actor=actor if actor is not None and actor.is_authenticated else None,
        data={"refund_request": request.pk, **data},
    )


def _audit(request: RefundRequest, *, actor: User | None, action: str, reason: str, **after):
    """Staff decisions on refunds also go to the staff audit trail (the OrderEvent stays:
    it is the order's timeline)."""
    if not _staff(actor):
        return
    staff_action(
        actor=actor,
        action=action,
        target=request,
        reason=reason,
        before={"status": after.pop("before_status", "")},
        after={"status": request.status, **after},
    )


def _email(request_id: int, step: str) -> None:
    from refunds.tasks import refund_email_task

    transaction.on_commit(lambda: refund_email_task.delay(request_id, step), robust=True)


def _lock(request: RefundRequest) -> RefundRequest:
    return (
        RefundRequest.objects.select_for_update()
        .select_related("order_item__order", "order_item__seller")
        .get(pk=request.pk)
    )


def _move(request: RefundRequest, to: str) -> None:
    if to not in RefundRequest.TRANSITIONS[request.status]:
        raise ApplicationError(
            f"This refund is {request.get_status_display().lower()}; it cannot be "
            f"{RefundRequest.Status(to).label.lower()} now."
        )
    request.status = to


@transaction.atomic
def refund_request_create(
    *,
    item: OrderItem,
    requested_by: User | None,
    reason: str,
    note: str = "",
    amount_cents: int | None = None,
) -> RefundRequest:
    """The buyer (or a guest holding the order's link: the caller checked it) asks for
    a refund of one line. One request per line. A file never downloaded, asked for
    within the window, is refunded at once when SiteConfig says so; anything else waits
    for the seller (or staff)."""
    item = OrderItem.objects.select_for_update().select_related("order").get(pk=item.pk)
    refusal = refund_ask_refusal(item)
    if refusal:
        raise ApplicationError(refusal)
    if reason not in RefundRequest.Reason.values:
        raise ApplicationError("Choose a reason.")
    most = refund_max_cents(item, by_staff=False)
    amount = most if amount_cents is None else amount_cents
    if not 0 < amount <= most:
        raise ApplicationError(f"Ask for an amount between 0.01 and the {most / 100:.2f} left.")
    request = RefundRequest.objects.create(
        order_item=item,
        initiated_by=RefundRequest.Initiator.BUYER,
        requested_by=requested_by if requested_by and requested_by.is_authenticated else None,
        reason=reason,
        buyer_note=note.strip()[:2000],
        currency=item.currency,
        requested_amount_cents=amount,
    )
    _event(request, f"Refund requested for {item.title}", requested_by, amount_cents=amount)
    if not refund_needs_decision(item):
        _approve_locked(request, actor=None, amount_cents=amount, note="Within the policy.")
    else:
        _email(request.pk, "requested")
    return request


@transaction.atomic
def refund_request_cancel(*, request: RefundRequest, by: User | None) -> RefundRequest:
    """The buyer withdraws their request before a decision."""
    request = _lock(request)
    _move(request, RefundRequest.Status.CANCELED)
    request.save(update_fields=["status", "updated_at"])
    _event(request, f"Refund request withdrawn for {request.order_item.title}", by)
    return request


@transaction.atomic
def refund_request_approve(
    *, request: RefundRequest, actor: User, amount_cents: int | None = None, note: str = ""
) -> RefundRequest:
    """The line's seller or staff approve all or part of a request; the Stripe refund
    goes out after commit. The amount never exceeds the request nor what the line has
    left (`refund_max_cents`)."""
    request = _lock(request)
    _check_decider(request, actor)
    amount = request.requested_amount_cents if amount_cents is None else amount_cents
    return _approve_locked(request, actor=actor, amount_cents=amount, note=note)


def _approve_locked(
    request: RefundRequest, *, actor: User | None, amount_cents: int, note: str
) -> RefundRequest:
    item = request.order_item
    before_status = request.status
    most = min(request.requested_amount_cents, refund_max_cents(item, by_staff=_staff(actor)))
    if not 0 < amount_cents <= most:
        raise ApplicationError(f"Approve an amount between 0.01 and {most / 100:.2f}.")
    _move(request, RefundRequest.Status.APPROVED)
    request.approved_amount_cents = amount_cents
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.decision_note = note.strip()[:2000]
    payment_refund = payment_refund_open_for_line(
        order_item_id=item.pk, amount_cents=amount_cents, key=request.key, requested_by=actor
    )
    request.payment_refund = payment_refund
    request.save()
    partial = amount_cents < request.requested_amount_cents
    _event(
        request,
        f"Refund {'partly ' if partial else ''}approved for {item.title}",
        actor,
        amount_cents=amount_cents,
    )
    _audit(
        request,
        actor=actor,
        action="refund.approve",
        reason=note.strip() or "Approved the refund request as asked.",
        before_status=before_status,
        amount_cents=amount_cents,
        currency=request.currency,
        order_item=item.pk,
    )
    if actor is not None:  # a refund the policy grants at once gets only "refunded"
        _email(request.pk, "approved")
    return request


@transaction.atomic
def refund_request_decline(*, request: RefundRequest, actor: User, note: str) -> RefundRequest:
    """The line's seller or staff decline, saying why (the buyer reads it)."""
    request = _lock(request)
    _check_decider(request, actor)
    if not note.strip():
        raise ApplicationError("Say why you decline: the buyer reads it.")
    before_status = request.status
    _move(request, RefundRequest.Status.DECLINED)
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.decision_note = note.strip()[:2000]
    request.save()
    _event(request, f"Refund declined for {request.order_item.title}", actor)
    _audit(
        request,
        actor=actor,
        action="refund.decline",
        reason=note.strip(),
        before_status=before_status,
    )
    _email(request.pk, "declined")
    return request


@transaction.atomic
def refund_line_initiate(
    *, item: OrderItem, actor: User, amount_cents: int | None, note: str, reason: str = "OTHER"
) -> RefundRequest:
    """The seller of the line (e.g. they cannot fulfil it) or staff refund it on their
    own initiative: a request created approved. Staff must give a reason."""
    item = OrderItem.objects.select_for_update().select_related("order").get(pk=item.pk)
    by_staff = _staff(actor)
    if not by_staff and item.seller_id != actor.pk:
        raise ApplicationError("That sale is not yours.")
    if by_staff and not note.strip():
        raise ApplicationError("Staff refunds need a reason.")
    existing = RefundRequest.objects.select_for_update().filter(order_item=item).first()
    if existing is not None:
        if existing.status == RefundRequest.Status.REQUESTED:
            return refund_request_approve(
                request=existing, actor=actor, amount_cents=amount_cents, note=note
            )
        raise ApplicationError(
            f"This line already has a refund ({existing.get_status_display().lower()})."
        )
    refusal = refund_ask_refusal(item, by_seller_or_staff=True)
    if refusal:
        raise ApplicationError(refusal)
    most = refund_max_cents(item, by_staff=by_staff)
    amount = most if amount_cents is None else amount_cents
    if not 0 < amount <= most:
        raise ApplicationError(f"Refund an amount between 0.01 and {most / 100:.2f}.")
    request = RefundRequest.objects.create(
        order_item=item,
        initiated_by=RefundRequest.Initiator.STAFF if by_staff else RefundRequest.Initiator.SELLER,
        requested_by=actor,
        reason=reason if reason in RefundRequest.Reason.values else RefundRequest.Reason.OTHER,
        currency=item.currency,
        requested_amount_cents=amount,
    )
    # The order's timeline: who, and (for staff, required) why. Staff's approval below
    # also writes the StaffActionLog row ("refund.approve", with this reason).
    _event(
        request,
        f"Refund started by {'staff' if by_staff else 'the seller'}"
        + (f": {note.strip()}" if note.strip() else ""),
        actor,
        amount_cents=amount,
        reason=note.strip()[:300],
    )
    return _approve_locked(request, actor=actor, amount_cents=amount, note=note)


@transaction.atomic
def refund_request_retry(*, request: RefundRequest, actor: User) -> RefundRequest:
    """Staff: send a FAILED refund again (payments asks Stripe for it first)."""
    request = _lock(request)
    if not _staff(actor):
        raise ApplicationError("Only staff can retry a failed refund.")
    if request.status != RefundRequest.Status.FAILED or request.payment_refund_id is None:
        raise ApplicationError("Only a failed refund can be sent again.")
    _move(request, RefundRequest.Status.APPROVED)
    request.last_error = ""
    request.save(update_fields=["status", "last_error", "updated_at"])
    payment_refund_reopen(refund_id=request.payment_refund_id)
    _event(request, "Refund sent again", actor)
    _audit(
        request,
        actor=actor,
        action="refund.retry",
        reason="Sent a failed refund to Stripe again.",
        before_status=RefundRequest.Status.FAILED,
    )
    return request


def _staff(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_staff)


def _check_decider(request: RefundRequest, actor: User) -> None:
    if not (_staff(actor) or request.order_item.seller_id == actor.pk):
        raise ApplicationError("Only the seller of this item or staff can decide.")


# ------------------------------------------------------------------------------
# Payments tells us (hooks registered in RefundsConfig.ready)
# ------------------------------------------------------------------------------
def refund_request_on_settled(payment_refund_id: int) -> None:
    """Stripe confirmed the refund and payments posted it: REFUNDED, everyone told."""
    with transaction.atomic():
        request = (
            RefundRequest.objects.select_for_update()
            .select_related("order_item")
            .filter(payment_refund_id=payment_refund_id)
            .first()
        )
        if request is None or request.status == RefundRequest.Status.REFUNDED:
            return
        refund = PaymentRefund.objects.get(pk=payment_refund_id)
        request.status = RefundRequest.Status.REFUNDED
        request.stripe_refund_id = refund.stripe_refund_id or ""
        request.refunded_at = refund.refunded_at or timezone.now()
        request.last_error = ""
        request.save()
        # (orders wrote the line's "refunded" event with the amount)
        _email(request.pk, "refunded")


def refund_request_on_failed(payment_refund_id: int) -> None:
    """Stripe refused: FAILED with the error, for staff to retry."""
    with transaction.atomic():
        request = (
            RefundRequest.objects.select_for_update()
            .filter(payment_refund_id=payment_refund_id)
            .first()
        )
        if request is None or request.status != RefundRequest.Status.APPROVED:
            return
        refund = PaymentRefund.objects.get(pk=payment_refund_id)
        request.status = RefundRequest.Status.FAILED
        request.last_error = refund.last_error
        request.save(update_fields=["status", "last_error", "updated_at"])
        _event(request, "The refund could not be sent; staff will retry it")
        logger.warning("refund request %s failed: %s", request.pk, refund.last_error)
