"""Every write of the cart, checkout and orders.

Order status changes only here, one service per transition, each under a row lock and
checked against `Order.ALLOWED_TRANSITIONS`, writing an `OrderEvent` in the same
transaction and scheduling side effects with `on_commit`.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import Product
from catalog.selectors import product_cannot_buy_reason
from catalog.shipping import seller_shipping_quote
from marketplace.exceptions import ApplicationError
from marketplace.legal import ACCOUNT_KINDS, legal_accept
from marketplace.models import User
from marketplace.selectors import site_config_get
from marketplace.templatetags.money import format_money
from orders.models import Order, OrderEvent, OrderItem
from orders.money import allocate, line_amounts, seller_fixed_fee_parts
from orders.selectors import files_owned_by, order_can_restore

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
        if product.pk in files_owned_by(user=user, product_ids=[product.pk]):
            raise ApplicationError("You already own this file: it is in your library.")
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
    """Change or (quantity 0) remove a line. More than the stock is refused now, with
    the stock in the message (checkout checks again under a lock)."""
    cart = dict(cart)
    key = str(product_id)
    if quantity <= 0:
        cart.pop(key, None)
    elif key in cart:
        product = Product.objects.filter(pk=product_id).only("kind", "stock_quantity").first()
        if product is None:
            cart.pop(key, None)
        elif product.kind == Product.Kind.FILE:
            cart[key] = 1
        elif quantity > product.stock_quantity:
            raise ApplicationError(
                f"Only {product.stock_quantity} in stock; your cart keeps {cart[key]}."
            )
        else:
            cart[key] = quantity
    return cart


def cart_ship_to_set(*, user: User, country: str) -> str:
    """The cart's "Ship to": a country django-countries knows, remembered on the account
    (the caller keeps it in the session too). Returns the code."""
    from django_countries import countries

    from marketplace.services import user_ship_to_country_set

    code = (country or "").strip().upper()
    if code not in dict(countries):
        raise ApplicationError("Choose a country from the list.")
    user_ship_to_country_set(user=user, country=code)
    return code


def cart_restore_from_order(*, cart: dict, order: Order) -> dict:
    """Put an unpaid order's lines back in a cart (after a cancelled or expired
    payment): a file once, a printed item at least the quantity ordered."""
    order = Order.objects.get(pk=order.pk)  # its status now, not the caller's copy
    if not order_can_restore(order):
        raise ApplicationError(
            "Only a checkout that was cancelled, expired or failed can go back in the cart."
        )
    cart = dict(cart)
    for item in order.items.all():
        key = str(item.product_id)
        if item.kind == Product.Kind.FILE:
            cart[key] = 1
        else:
            cart[key] = max(int(cart.get(key, 0)), item.quantity)
    return cart


def _check_buyable(product: Product, *, user: User) -> None:
    reason = product_cannot_buy_reason(product, user=user)
    if reason:
        raise ApplicationError(reason)


# ------------------------------------------------------------------------------
# Checkout
# ------------------------------------------------------------------------------
def order_open_checkouts_check(
    *, buyer: User | None, client_ip: str = "", session_order_ids: Iterable[int] = ()
) -> None:
    """Refuse a new checkout while this buyer account, this browser session or this IP
    already has CHECKOUT_OPEN_MAX unpaid ones (each holds stock until it expires,
    CHECKOUT_SESSION_MINUTES), so nobody can reserve a shop's stock away."""
    limit = settings.CHECKOUT_OPEN_MAX
    pending = Order.objects.filter(status=Order.Status.PENDING)
    scopes = []
    if buyer is not None:
        scopes.append(pending.filter(buyer=buyer))
    ids = [int(pk) for pk in session_order_ids]
    if ids:
        scopes.append(pending.filter(pk__in=ids))
    if client_ip:
        scopes.append(pending.filter(checkout_ip=client_ip))
    if any(scope.count() >= limit for scope in scopes):
        raise ApplicationError(
            f"You already have {limit} checkouts waiting for payment. Finish or cancel "
            f"one of them, or wait {settings.CHECKOUT_SESSION_MINUTES} minutes until "
            "they expire, before starting another."
        )


@transaction.atomic
def order_create_from_cart(
    *,
    cart: dict,
    buyer: User | None,
    email: str,
    ship_to_country: str = "",
    terms_accepted: bool = False,
    consent_ip: str | None = None,
    client_ip: str = "",
    session_order_ids: Iterable[int] = (),
) -> Order:
    """Turn a cart into a PENDING order with every money snapshot, in one transaction.

    Re-checks `can_buy` for every line, locks the physical listings (in id order, so two
    checkouts cannot deadlock) and reserves their stock, so concurrent checkouts of the
    last unit cannot both succeed. Shipping is per seller, to `ship_to_country`, by the
    one shipping rule (`catalog.shipping.seller_shipping_quote`); a printed line that
    does not ship there is refused with the reason. Tax is 0 until Stripe Tax is
    enabled; both are allocated to lines by subtotal with the largest-remainder rule,
    and the fee's fixed part per seller likewise (docs/LEDGER.md). With `terms_accepted`
    (a guest ticked the box), the acceptance of the Terms and Privacy Policy in force is
    recorded against the order, from `consent_ip`, in the same transaction.
    """
    if not cart:
        raise ApplicationError("Your cart is empty.")
    order_open_checkouts_check(
        buyer=buyer, client_ip=client_ip, session_order_ids=session_order_ids
    )
    user = buyer if buyer is not None else AnonymousUser()
    ids = sorted(int(pk) for pk in cart)
    products = {
        p.pk: p
        for p in Product.objects.select_for_update(of=("self",))
        .select_related("seller", "shipping_profile")
        .prefetch_related("shipping_profile__rates")
        .filter(pk__in=ids)
        .order_by("pk")
    }
    if len(products) != len(ids):
        raise ApplicationError("An item in your cart is no longer available. Remove it to go on.")
    currencies = {p.currency for p in products.values()}
    if len(currencies) != 1:
        raise ApplicationError("Items priced in different currencies must be bought separately.")
    config = site_config_get()
    fee_bps, fee_fixed = config.fee_bps, config.fee_fixed_cents
    owned = files_owned_by(user=user, product_ids=ids)
    lines = []
    for pk in ids:
        product, quantity = products[pk], int(cart[str(pk)])
        try:
            _check_buyable(product, user=user)
        except ApplicationError as exc:
            raise ApplicationError(f"“{product.title}”: {exc.message}") from exc
        if product.kind == Product.Kind.FILE:
            quantity = 1
            if product.pk in owned:
                raise ApplicationError(f"“{product.title}”: you already own this file.")
        elif quantity > product.stock_quantity:
            raise ApplicationError(
                f"“{product.title}”: only {product.stock_quantity} left in stock."
            )
        lines.append((product, quantity))

    by_seller: dict[int, list[int]] = defaultdict(list)
    for index, (product, _) in enumerate(lines):
        by_seller[product.seller_id].append(index)
    has_printed = any(p.kind == Product.Kind.PHYSICAL for p, _ in lines)
    if has_printed and not ship_to_country:
        raise ApplicationError("Choose where to ship your printed items.")
    shipping_per_line = [0] * len(lines)
    fixed_per_line = [0] * len(lines)
    for indexes in by_seller.values():
        quote = seller_shipping_quote(
            lines=[lines[i] for i in indexes], country=ship_to_country if has_printed else ""
        )
        for i in indexes:
            if has_printed and lines[i][0].pk in quote.unavailable:
                product = lines[i][0]
                raise ApplicationError(f"“{product.title}”: {quote.unavailable[product.pk]}")
        physical = [i for i in indexes if lines[i][0].kind == Product.Kind.PHYSICAL]
        weights = [lines[i][0].price_cents * lines[i][1] for i in physical]
        for i, part in zip(physical, allocate(quote.cents, weights), strict=True):
            shipping_per_line[i] = part
        subtotals = [lines[i][0].price_cents * lines[i][1] for i in indexes]
        for i, part in zip(indexes, seller_fixed_fee_parts(fee_fixed, subtotals), strict=True):
            fixed_per_line[i] = part
    amounts = [
        line_amounts(
            unit_price_cents=p.price_cents, quantity=q, fee_bps=fee_bps, fixed_fee_cents=fixed
        )
        for (p, q), fixed in zip(lines, fixed_per_line, strict=True)
    ]
    tax_total = 0  # Stripe Tax hook: set automatic_tax on the session and allocate here.
    tax_per_line = allocate(tax_total, [a["subtotal_cents"] for a in amounts])
    subtotal = sum(a["subtotal_cents"] for a in amounts)
    shipping = sum(shipping_per_line)

    order = Order.objects.create(
        buyer=buyer,
        email=email.strip().lower(),
        checkout_ip=client_ip or None,
        currency=currencies.pop(),
        fee_bps=fee_bps,
        fee_fixed_cents=fee_fixed,
        ship_to_country=ship_to_country if has_printed else "",
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
            processing_min_days=(
                product.shipping_profile.processing_min_days if product.shipping_profile else None
            ),
            processing_max_days=(
                product.shipping_profile.processing_max_days if product.shipping_profile else None
            ),
            **amount,
        )
        if product.kind == Product.Kind.PHYSICAL:
            Product.objects.filter(pk=product.pk).update(
                stock_quantity=F("stock_quantity") - quantity
            )
    OrderEvent.objects.create(order=order, kind=OrderEvent.Kind.CREATED, actor=buyer)
    if terms_accepted:
        # A guest's consent belongs to the order (an account accepted at signup).
        legal_accept(kinds=ACCOUNT_KINDS, order_id=order.pk, ip=consent_ip)
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
    if current.status not in Order.WAS_PAID and order_needs_address(current):
        # Printed items are never PAID without somewhere to send them: the order closes
        # and the caller refunds the payment (docs/LEDGER.md, "no address").
        return _close_without_address(current)
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


ADDRESS_FIELDS = {
    "name": ("ship_name", 200),
    "line1": ("ship_line1", 200),
    "line2": ("ship_line2", 200),
    "city": ("ship_city", 100),
    "region": ("ship_region", 100),
    "postal_code": ("ship_postal_code", 20),
    "country": ("ship_country", 2),
    "phone": ("ship_phone", 40),
}


def order_needs_address(order: Order) -> bool:
    """An order with printed lines that has no shipping address snapshot yet."""
    return not order.ship_country and order.items.filter(kind=Product.Kind.PHYSICAL).exists()


def _close_without_address(order: Order) -> Order:
    OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.NOTE,
        message="The payment arrived without a shipping address for the printed items; "
        "the order cannot be sent and the payment is refunded in full.",
    )
    if order.status == Order.Status.PENDING:
        order, changed = _transition(
            order.pk,
            Order.Status.CANCELLED,
            event=OrderEvent.Kind.CANCELLED,
            message="Paid without a shipping address; refunded.",
        )
        if changed:
            _release_stock(order)
    return order


@transaction.atomic
def order_record_shipping_address(*, order_id: int, address: dict | None) -> Order:
    """Copy the address the buyer gave at payment onto the order, once: an address
    already recorded never changes. An address outside the country shipping was priced
    for (`ship_to_country`), or without a street, city or country, is not recorded —
    the order then has no address and its payment is refunded. Orders without printed
    items record nothing."""
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.ship_country or not address or not order.ship_to_country:
        return order
    values = {
        field: str(address.get(key) or "").strip()[:length]
        for key, (field, length) in ADDRESS_FIELDS.items()
    }
    values["ship_country"] = values["ship_country"].upper()
    if values["ship_country"] != order.ship_to_country:
        logger.warning(
            "order %s: address in %s, shipping priced for %s; not recorded",
            order.pk,
            values["ship_country"],
            order.ship_to_country,
        )
        return order
    if not (values["ship_line1"] and values["ship_city"] and values["ship_name"]):
        return order
    for field, value in values.items():
        setattr(order, field, value)
    order.save(update_fields=[*values, "updated_at"])
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
    "cart_restore_from_order",
    "cart_set_quantity",
    "cart_ship_to_set",
    "order_cancel",
    "order_checkout_expired",
    "order_create_from_cart",
    "order_followups_done",
    "order_item_confirm_received",
    "order_items_auto_deliver",
    "order_note_payment_attempt_failed",
    "order_payment_failed",
    "order_payment_succeeded",
    "order_record_charge",
    "order_record_shipping_address",
]


# ------------------------------------------------------------------------------
# Fulfilment of printed items (the seller's own lines only)
# ------------------------------------------------------------------------------
def order_item_mark_shipped(
    *,
    item: OrderItem,
    seller: User,
    carrier: str,
    tracking_number: str,
    no_tracking: bool = False,
) -> OrderItem:
    """UNFULFILLED → SHIPPED with carrier and tracking number (both required unless the
    seller ticks "no tracking"); the buyer is emailed on commit."""
    carrier, tracking_number = carrier.strip()[:60], tracking_number.strip()[:100]
    if no_tracking:
        tracking_number = ""
    elif not carrier or not tracking_number:
        raise ApplicationError(
            "Choose the carrier and enter the tracking number, or tick “Sent without tracking”."
        )
    from orders.tracking import carrier_name

    label = carrier_name(carrier)
    return _item_fulfil(
        item=item,
        seller=seller,
        to=OrderItem.Fulfillment.SHIPPED,
        event=OrderEvent.Kind.SHIPPED,
        email_step="shipped",
        message=(
            f"{item.title}: {label} {tracking_number}".strip()
            if tracking_number
            else f"{item.title}: sent without tracking{f' ({label})' if label else ''}"
        ),
        carrier=carrier,
        tracking_number=tracking_number,
        shipped_at=timezone.now(),
    )


@transaction.atomic
def order_item_confirm_received(*, order: Order, item_id: int, actor: User | None) -> OrderItem:
    """SHIPPED → DELIVERED by the buyer ("I received it"), on an order the caller has
    already scoped to them (their own, or its access token). The seller cannot do this."""
    item = _lock_fulfillable(
        OrderItem.objects.filter(pk=item_id, order_id=order.pk),
        missing="That item is not part of this order.",
    )
    _check_fulfillment(item, OrderItem.Fulfillment.DELIVERED)
    item.fulfillment_status = OrderItem.Fulfillment.DELIVERED
    item.delivered_at = timezone.now()
    item.save(update_fields=["fulfillment_status", "delivered_at"])
    OrderEvent.objects.create(
        order=item.order,
        item=item,
        kind=OrderEvent.Kind.DELIVERED,
        actor=actor if actor is not None and actor.is_authenticated else None,
        message=f"{item.title}: received, confirmed by the buyer",
    )
    return item


def order_items_auto_deliver(*, now=None) -> int:
    """Mark DELIVERED every printed line SHIPPED more than `auto_deliver_after_days`
    (SiteConfig) ago that its buyer has not confirmed; the buyer is emailed. One
    transaction per line; safe to run twice. Returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=site_config_get().auto_deliver_after_days)
    due = list(
        OrderItem.objects.filter(
            fulfillment_status=OrderItem.Fulfillment.SHIPPED,
            shipped_at__lte=cutoff,
            # the rule of `_lock_fulfillable`: paid orders, lines not refunded
            order__status__in=Order.WAS_PAID,
            refunded_at__isnull=True,
        ).values_list("pk", flat=True)
    )
    count = 0
    for item_id in due:
        with transaction.atomic():
            item = (
                OrderItem.objects.select_for_update()
                .select_related("order")
                .filter(pk=item_id, fulfillment_status=OrderItem.Fulfillment.SHIPPED)
                .first()
            )
            if item is None:
                continue
            item.fulfillment_status = OrderItem.Fulfillment.DELIVERED
            item.delivered_at = now
            item.save(update_fields=["fulfillment_status", "delivered_at"])
            OrderEvent.objects.create(
                order=item.order,
                item=item,
                kind=OrderEvent.Kind.DELIVERED,
                message=f"{item.title}: marked delivered automatically",
            )
            transaction.on_commit(lambda pk=item.pk: _fulfillment_email(pk, "delivered"))
            count += 1
    return count


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
    return _lock_fulfillable(
        OrderItem.objects.filter(pk=item.pk, seller=seller), missing="That sale is not yours."
    )


def _lock_fulfillable(lines, *, missing: str) -> OrderItem:
    """Lock the one line of `lines` (already scoped to who may act on it) and refuse it
    unless its order was paid and the line itself was not refunded: the one rule for
    every fulfilment step (seller, buyer, automatic)."""
    locked = lines.select_for_update().select_related("order").first()
    if locked is None:
        raise ApplicationError(missing)
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
    from orders.tracking import carrier_name, tracking_url

    item = OrderItem.objects.select_related("order").get(pk=item_id)
    email_send(
        key=f"{step}-item-{item.pk}",
        to=item.order.email,
        template=f"orders/emails/item_{step}",
        context={
            "item": item,
            "order": item.order,
            "order_path": order_buyer_url(item.order),
            "notification_url": order_buyer_url(item.order),
            "carrier": carrier_name(item.carrier),
            "tracking_link": tracking_url(item.carrier, item.tracking_number),
        },
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
    OrderEvent.objects.create(
        order=order,
        item=item,
        kind=OrderEvent.Kind.REFUND,
        message=(message or f"{item.title}: {format_money(amount_cents, item.currency)} refunded")[
            :300
        ],
        data={"amount_cents": amount_cents},
    )
    target = Order.Status.REFUNDED if everything_back else Order.Status.PARTIALLY_REFUNDED
    if order.status != target:
        _transition(
            order.pk,
            target,
            event=OrderEvent.Kind.REFUND,
            message="Order refunded in full" if everything_back else "Order partly refunded",
        )
    return item


def order_item_mark_downloaded(*, item_id: int) -> None:
    """Stamp the first download of a FILE line, once (the refund policy reads it)."""
    OrderItem.objects.filter(pk=item_id, first_downloaded_at__isnull=True).update(
        first_downloaded_at=timezone.now()
    )
