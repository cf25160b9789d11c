"""Every write of the cart, checkout and orders.

Order status changes only here, one service per transition, each under a row lock and
checked against `Order.ALLOWED_TRANSITIONS`, writing an `OrderEvent` in the same
transaction and scheduling side effects with `on_commit`.
"""

import logging
from collections import defaultdict

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import Product
from catalog.selectors import product_cannot_buy_reason
from marketplace.exceptions import ApplicationError
from marketplace.models import User
from marketplace.selectors import site_config_get
from orders.models import Order, OrderEvent, OrderItem
from orders.money import allocate, line_amounts
from orders.selectors import seller_shipping_cents

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------
# Cart (session): {"<product id>": quantity}
# ------------------------------------------------------------------------------
def cart_add(*, cart: dict, product: Product, user: User, quantity: int = 1) -> dict:
    """Add `quantity` of `product` to a session cart and return the new cart. Refuses,
    with the reason, anything `can_buy` refuses; a file is bought once, a printed item
    at most as many times as there are in stock."""
    _check_buyable(product, user=user)
    if quantity < 1:
        raise ApplicationError("Choose a quantity of at least 1.")
    cart = dict(cart)
    key = str(product.pk)
    if product.kind == Product.Kind.FILE:
        if key in cart:
            raise ApplicationError("This file is already in your cart.")
        cart[key] = 1
        return cart
    wanted = cart.get(key, 0) + quantity
    if wanted > product.stock_quantity:
        raise ApplicationError(
            f"Only {product.stock_quantity} in stock"
            + (f"; you already have {cart[key]} in your cart." if key in cart else ".")
        )
    cart[key] = wanted
    return cart


def cart_set_quantity(*, cart: dict, product_id: int, quantity: int) -> dict:
    """Change or (quantity 0) remove a line. Stock is checked again at checkout."""
    cart = dict(cart)
    key = str(product_id)
    if quantity <= 0:
        cart.pop(key, None)
    elif key in cart:
        cart[key] = quantity
    return cart


def _check_buyable(product: Product, *, user: User) -> None:
    reason = product_cannot_buy_reason(product, user=user)
    if reason:
        raise ApplicationError(reason)


# ------------------------------------------------------------------------------
# Checkout
# ------------------------------------------------------------------------------
@transaction.atomic
def order_create_from_cart(*, cart: dict, buyer: User | None, email: str) -> Order:
    """Turn a cart into a PENDING order with every money snapshot, in one transaction.

    Re-checks `can_buy` for every line, locks the physical listings (in id order, so two
    checkouts cannot deadlock) and reserves their stock, so concurrent checkouts of the
    last unit cannot both succeed. Shipping is per seller (`seller_shipping_cents`) and
    tax is 0 until Stripe Tax is enabled; both are allocated to lines by subtotal with
    the largest-remainder rule (docs/LEDGER.md).
    """
    if not cart:
        raise ApplicationError("Your cart is empty.")
    user = buyer if buyer is not None else AnonymousUser()
    ids = sorted(int(pk) for pk in cart)
    products = {
        p.pk: p
        for p in Product.objects.select_for_update(of=("self",))
        .select_related("seller")
        .filter(pk__in=ids)
        .order_by("pk")
    }
    if len(products) != len(ids):
        raise ApplicationError("An item in your cart is no longer available. Remove it to go on.")
    currencies = {p.currency for p in products.values()}
    if len(currencies) != 1:
        raise ApplicationError("Items priced in different currencies must be bought separately.")
    fee_bps = site_config_get().fee_bps
    lines = []
    for pk in ids:
        product, quantity = products[pk], int(cart[str(pk)])
        try:
            _check_buyable(product, user=user)
        except ApplicationError as exc:
            raise ApplicationError(f"“{product.title}”: {exc.message}") from exc
        if product.kind == Product.Kind.FILE:
            quantity = 1
        elif quantity > product.stock_quantity:
            raise ApplicationError(
                f"“{product.title}”: only {product.stock_quantity} left in stock."
            )
        lines.append((product, quantity))

    by_seller: dict[int, list[int]] = defaultdict(list)
    for index, (product, _) in enumerate(lines):
        by_seller[product.seller_id].append(index)
    shipping_per_line = [0] * len(lines)
    for indexes in by_seller.values():
        physical = [i for i in indexes if lines[i][0].kind == Product.Kind.PHYSICAL]
        total = seller_shipping_cents([lines[i][0] for i in physical])
        weights = [lines[i][0].price_cents * lines[i][1] for i in physical]
        for i, part in zip(physical, allocate(total, weights), strict=True):
            shipping_per_line[i] = part
    amounts = [
        line_amounts(unit_price_cents=p.price_cents, quantity=q, fee_bps=fee_bps) for p, q in lines
    ]
    tax_total = 0  # Stripe Tax hook: set automatic_tax on the session and allocate here.
    tax_per_line = allocate(tax_total, [a["subtotal_cents"] for a in amounts])
    subtotal = sum(a["subtotal_cents"] for a in amounts)
    shipping = sum(shipping_per_line)

    order = Order.objects.create(
        buyer=buyer,
        email=email.strip().lower(),
        currency=currencies.pop(),
        fee_bps=fee_bps,
        subtotal_cents=subtotal,
        shipping_cents=shipping,
        tax_cents=tax_total,
        total_cents=subtotal + shipping + tax_total,
    )
    for (product, quantity), amount, ship, tax in zip(
        lines, amounts, shipping_per_line, tax_per_line, strict=True
    ):
        OrderItem.objects.create(
            order=order,
            product=product,
            seller_id=product.seller_id,
            kind=product.kind,
            title=product.title,
            currency=order.currency,
            unit_price_cents=product.price_cents,
            quantity=quantity,
            fee_bps=fee_bps,
            shipping_allocated_cents=ship,
            tax_allocated_cents=tax,
            fulfillment_status=(
                OrderItem.Fulfillment.UNFULFILLED
                if product.kind == Product.Kind.PHYSICAL
                else OrderItem.Fulfillment.NOT_APPLICABLE
            ),
            **amount,
        )
        if product.kind == Product.Kind.PHYSICAL:
            Product.objects.filter(pk=product.pk).update(
                stock_quantity=F("stock_quantity") - quantity
            )
    OrderEvent.objects.create(order=order, kind=OrderEvent.Kind.CREATED, actor=buyer)
    return order


# ------------------------------------------------------------------------------
# Transitions (webhook-driven ones are idempotent and tolerate out-of-order events)
# ------------------------------------------------------------------------------
def _transition(
    order_id: int,
    to: str,
    *,
    event: str,
    message: str = "",
    data: dict | None = None,
    actor: User | None = None,
    **fields,
) -> tuple[Order, bool]:
    """Lock, check ALLOWED_TRANSITIONS, set, log. Returns (order, changed).

    Already in `to`: no-op (a duplicate or replayed event). Not allowed from the current
    state (an out-of-order event): recorded as a NOTE, nothing changes, no error — so a
    webhook task does not retry something that can never apply.
    """
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.status == to:
        return order, False
    if to not in Order.ALLOWED_TRANSITIONS[order.status]:
        logger.warning("order %s: ignored %s → %s", order.pk, order.status, to)
        OrderEvent.objects.create(
            order=order,
            kind=OrderEvent.Kind.NOTE,
            message=f"Ignored a late “{to.lower()}” signal: the order is {order.status.lower()}.",
            data=data or {},
        )
        return order, False
    order.status = to
    for name, value in fields.items():
        setattr(order, name, value)
    order.save()
    OrderEvent.objects.create(
        order=order, kind=event, message=message, data=data or {}, actor=actor
    )
    return order, True


def _release_stock(order: Order) -> None:
    """Put reserved physical stock back, once (stock_released_at makes it idempotent)."""
    if order.stock_released_at is not None:
        return
    for item in order.items.filter(kind=Product.Kind.PHYSICAL):
        Product.objects.filter(pk=item.product_id).update(
            stock_quantity=F("stock_quantity") + item.quantity
        )
    order.stock_released_at = timezone.now()
    order.save(update_fields=["stock_released_at", "updated_at"])


def _reserve_stock_again(order: Order) -> bool:
    """Take an order's released physical stock back, all or nothing, under row locks
    (in id order, like checkout). False when a listing no longer has enough."""
    if order.stock_released_at is None:
        return True
    needed: dict[int, int] = defaultdict(int)
    for item in order.items.filter(kind=Product.Kind.PHYSICAL):
        needed[item.product_id] += item.quantity
    stock = dict(
        Product.objects.select_for_update(of=("self",))
        .filter(pk__in=sorted(needed))
        .order_by("pk")
        .values_list("pk", "stock_quantity")
    )
    if any(stock.get(pk, 0) < quantity for pk, quantity in needed.items()):
        return False
    for pk, quantity in needed.items():
        Product.objects.filter(pk=pk).update(stock_quantity=F("stock_quantity") - quantity)
    order.stock_released_at = None
    order.save(update_fields=["stock_released_at", "updated_at"])
    return True


@transaction.atomic
def order_record_charge(
    *,
    order_id: int,
    checkout_session_id: str,
    payment_intent_id: str,
    charge_id: str,
    amount_charged_cents: int | None,
    charged_currency: str,
) -> Order:
    """Store what Stripe charged for this order, whatever the order's state (a charge on
    an order that is not PAID must be refunded, and reconciliation compares it with the
    total). Refuses a session that is not the order's own. Idempotent."""
    order = Order.objects.select_for_update().get(pk=order_id)
    recorded = order.stripe_checkout_session_id
    if order.total_cents and recorded and recorded != checkout_session_id:
        raise ApplicationError(
            f"Session {checkout_session_id} does not belong to order {order_id}."
        )
    values = {
        # The session names this order in its metadata; a checkout whose reply was lost
        # (the order was cancelled before the id was stored) still records it.
        "stripe_checkout_session_id": recorded or checkout_session_id or None,
        "stripe_payment_intent_id": payment_intent_id or order.stripe_payment_intent_id,
        "stripe_charge_id": charge_id or order.stripe_charge_id,
        "amount_charged_cents": (
            amount_charged_cents if amount_charged_cents is not None else order.amount_charged_cents
        ),
        "charged_currency": charged_currency or order.charged_currency,
    }
    changed = [name for name, value in values.items() if getattr(order, name) != value]
    if changed:
        for name in changed:
            setattr(order, name, values[name])
        order.save(update_fields=[*changed, "updated_at"])
    return order


@transaction.atomic
def order_payment_succeeded(
    *, order_id: int, checkout_session_id: str, payment_intent_id: str, charge_id: str
) -> Order:
    """→ PAID. Idempotent (a PAID order is returned as it is).

    From PENDING it is the normal transition. From EXPIRED, CANCELLED or FAILED (a
    payment confirmed late) the order is reinstated only if its stock can be reserved
    again; otherwise it is returned unchanged and the caller must refund the payment.
    For a paid order the session id must match the one we created for it. Side effects
    (payouts, emails) are the caller's: payments queues them after commit.
    """
    current = Order.objects.select_for_update().get(pk=order_id)
    if current.total_cents and current.stripe_checkout_session_id != checkout_session_id:
        raise ApplicationError(
            f"Session {checkout_session_id} does not belong to order {order_id}."
        )
    message = ""
    if current.status in (Order.Status.EXPIRED, Order.Status.CANCELLED, Order.Status.FAILED):
        if not _reserve_stock_again(current):
            OrderEvent.objects.create(
                order=current,
                kind=OrderEvent.Kind.NOTE,
                message="A payment arrived after the order was closed and its stock is gone; "
                "the payment is refunded in full.",
            )
            return current
        message = f"The payment arrived after the order was {current.status.lower()}; reinstated."
    order, _ = _transition(
        order_id,
        Order.Status.PAID,
        event=OrderEvent.Kind.PAID,
        message=message,
        paid_at=timezone.now(),
        stripe_payment_intent_id=payment_intent_id or current.stripe_payment_intent_id,
        stripe_charge_id=charge_id or current.stripe_charge_id,
    )
    return order


def order_followups_done(*, order_id: int) -> None:
    """Stamp a PAID order whose every follow-up is done (payments.followups), once."""
    Order.objects.filter(pk=order_id, followups_done_at__isnull=True).update(
        followups_done_at=timezone.now()
    )


@transaction.atomic
def order_payment_failed(*, order_id: int, reason: str) -> Order:
    """PENDING → FAILED (an asynchronous payment failed). Releases reserved stock."""
    order, changed = _transition(
        order_id, Order.Status.FAILED, event=OrderEvent.Kind.PAYMENT_FAILED, message=reason[:300]
    )
    if changed:
        _release_stock(order)
    return order


@transaction.atomic
def order_checkout_expired(*, order_id: int) -> Order:
    """PENDING → EXPIRED (the Checkout Session expired unpaid). Releases reserved stock."""
    order, changed = _transition(order_id, Order.Status.EXPIRED, event=OrderEvent.Kind.EXPIRED)
    if changed:
        _release_stock(order)
    return order


@transaction.atomic
def order_cancel(*, order_id: int, reason: str = "", actor: User | None = None) -> Order:
    """PENDING → CANCELLED. Releases reserved stock."""
    order, changed = _transition(
        order_id,
        Order.Status.CANCELLED,
        event=OrderEvent.Kind.CANCELLED,
        message=reason[:300],
        actor=actor,
    )
    if changed:
        _release_stock(order)
    return order


def order_note_payment_attempt_failed(*, order_id: int, reason: str) -> None:
    """A card was declined; the session stays open for another try. Timeline only."""
    OrderEvent.objects.create(
        order_id=order_id,
        kind=OrderEvent.Kind.PAYMENT_FAILED,
        message=(reason or "A payment attempt failed.")[:300],
    )


__all__ = [
    "cart_add",
    "cart_set_quantity",
    "order_cancel",
    "order_checkout_expired",
    "order_create_from_cart",
    "order_followups_done",
    "order_note_payment_attempt_failed",
    "order_payment_failed",
    "order_payment_succeeded",
    "order_record_charge",
]


# ------------------------------------------------------------------------------
# Fulfilment of printed items (the seller's own lines only)
# ------------------------------------------------------------------------------
def order_item_mark_shipped(
    *, item: OrderItem, seller: User, carrier: str, tracking_number: str
) -> OrderItem:
    """UNFULFILLED → SHIPPED with carrier and tracking; the buyer is emailed on commit."""
    carrier, tracking_number = carrier.strip()[:60], tracking_number.strip()[:100]
    return _item_fulfil(
        item=item,
        seller=seller,
        to=OrderItem.Fulfillment.SHIPPED,
        event=OrderEvent.Kind.SHIPPED,
        email_step="shipped",
        message=f"{item.title}: {carrier} {tracking_number}".strip(),
        carrier=carrier,
        tracking_number=tracking_number,
        shipped_at=timezone.now(),
    )


def order_item_mark_delivered(*, item: OrderItem, seller: User) -> OrderItem:
    """SHIPPED → DELIVERED; the buyer is emailed on commit."""
    return _item_fulfil(
        item=item,
        seller=seller,
        to=OrderItem.Fulfillment.DELIVERED,
        event=OrderEvent.Kind.DELIVERED,
        email_step="delivered",
        message=item.title,
        delivered_at=timezone.now(),
    )


@transaction.atomic
def _item_fulfil(
    *, item: OrderItem, seller: User, to: str, event: str, email_step: str, message: str, **fields
) -> OrderItem:
    """Lock the seller's own line of a paid order, check FULFILLMENT_TRANSITIONS, set
    `to` and `fields`, log the step and email the buyer on commit."""
    item = _lock_item_for_seller(item, seller)
    _check_fulfillment(item, to)
    item.fulfillment_status = to
    for name, value in fields.items():
        setattr(item, name, value)
    item.save()
    OrderEvent.objects.create(
        order=item.order,
        item=item,
        kind=event,
        actor=seller,
        message=message,
    )
    transaction.on_commit(lambda: _fulfillment_email(item.pk, email_step))
    return item


def _lock_item_for_seller(item: OrderItem, seller: User) -> OrderItem:
    locked = (
        OrderItem.objects.select_for_update()
        .select_related("order")
        .filter(pk=item.pk, seller=seller)
        .first()
    )
    if locked is None:
        raise ApplicationError("That sale is not yours.")
    if locked.order.status not in Order.WAS_PAID:
        raise ApplicationError("Only paid orders can be fulfilled.")
    if locked.refunded_at is not None:
        raise ApplicationError("This line was refunded; there is nothing to ship.")
    return locked


def _check_fulfillment(item: OrderItem, to: str) -> None:
    if to not in OrderItem.FULFILLMENT_TRANSITIONS[item.fulfillment_status]:
        raise ApplicationError(
            f"This item is {item.get_fulfillment_status_display().lower()}; "
            f"it cannot be marked {OrderItem.Fulfillment(to).label.lower()}."
        )


def _fulfillment_email(item_id: int, step: str) -> None:
    from orders.tasks import order_item_fulfillment_email_task

    order_item_fulfillment_email_task.delay(item_id, step)


def order_item_send_fulfillment_email(*, item_id: int, step: str) -> None:
    from messaging.services import email_send
    from orders.emails import order_buyer_url

    item = OrderItem.objects.select_related("order").get(pk=item_id)
    email_send(
        key=f"{step}-item-{item.pk}",
        to=item.order.email,
        template=f"orders/emails/item_{step}",
        context={"item": item, "order": item.order, "order_path": order_buyer_url(item.order)},
    )


def orders_attach_guest_orders(*, user: User, email: str) -> int:
    """Give a newly verified account the guest orders placed with the same email."""
    return Order.objects.filter(buyer__isnull=True, email__iexact=email).update(buyer=user)


# ------------------------------------------------------------------------------
# Refunds confirmed by Stripe (payments posts the money; orders keeps the lines)
# ------------------------------------------------------------------------------
@transaction.atomic
def order_item_refund_record(*, item_id: int, amount_cents: int, message: str = "") -> OrderItem:
    """Add a confirmed refund to a line: `refunded_cents` grows; the line is refunded in
    full (`refunded_at`: no more downloads, its units no longer sold) once its item
    (subtotal + tax) is back; the order becomes PARTIALLY_REFUNDED, or REFUNDED when
    every line is back in full. Not idempotent on its own: payments calls it once per
    refund, under that refund's row lock."""
    item = OrderItem.objects.select_for_update().select_related("order").get(pk=item_id)
    if amount_cents <= 0 or item.refunded_cents + amount_cents > item.total_cents:
        raise ApplicationError("A refund cannot exceed what the line was paid.")
    item.refunded_cents += amount_cents
    fields = ["refunded_cents"]
    if item.refunded_at is None and item.refunded_cents >= item.subtotal_cents + (
        item.tax_allocated_cents
    ):
        item.refunded_at = timezone.now()
        fields.append("refunded_at")
    item.save(update_fields=fields)
    order = item.order
    everything_back = not order.items.exclude(
        refunded_cents__gte=F("subtotal_cents")
        + F("shipping_allocated_cents")
        + F("tax_allocated_cents")
    ).exists()
    target = Order.Status.REFUNDED if everything_back else Order.Status.PARTIALLY_REFUNDED
    if order.status != target:
        _transition(
            order.pk,
            target,
            event=OrderEvent.Kind.REFUND,
            message="Order refunded in full" if everything_back else "Order partly refunded",
        )
    OrderEvent.objects.create(
        order=order,
        item=item,
        kind=OrderEvent.Kind.REFUND,
        message=(message or f"{item.title}: refunded")[:300],
        data={"amount_cents": amount_cents},
    )
    return item


def order_item_mark_downloaded(*, item_id: int) -> None:
    """Stamp the first download of a FILE line, once (the refund policy reads it)."""
    OrderItem.objects.filter(pk=item_id, first_downloaded_at__isnull=True).update(
        first_downloaded_at=timezone.now()
    )
