import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare

from marketplace.models import User

if TYPE_CHECKING:
    from catalog.models import Product

# The session cart: {"<product id>": quantity}. Written only by orders.services.
SESSION_CART_KEY = "cart"
# The cart's "Ship to" country code; also remembered on the account.
SESSION_SHIP_TO_KEY = "ship_to"
# Orders this browser session started checkout for: {"<order id>": True}. Lets the
# payment's cancel link restore the cart without the guest token in the URL.
SESSION_CHECKOUTS_KEY = "checkouts"
_ACCESS_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


def access_token_from(value: str | None) -> str | None:
    """An order access token from a URL, or None when it cannot be one (so junk such as
    NUL bytes never reaches a database query)."""
    return value if value and _ACCESS_TOKEN.fullmatch(value) else None


def ship_to_for(request: HttpRequest) -> str:
    """The visitor's chosen ship-to country: this session's choice, else the account's."""
    session = getattr(request, "session", None)
    chosen = session.get(SESSION_SHIP_TO_KEY, "") if session is not None else ""
    if not chosen and request.user.is_authenticated:
        chosen = request.user.ship_to_country.code or ""
    return chosen or ""


def cart_item_count(request: HttpRequest) -> int:
    """Number of items in the visitor's cart, for the header badge (no query)."""
    session = getattr(request, "session", None)
    if session is None:
        return 0
    return sum(int(q) for q in session_cart(session).values())


def session_cart(session) -> dict:
    """The session cart, {"<product id>": quantity} (empty when there is none)."""
    return session.get(SESSION_CART_KEY, {})


def net_units_sold_by_product(
    product_ids: list[int], *, paid_from=None, paid_to=None
) -> dict[int, int]:
    """{product_id: units sold on paid orders, less the lines refunded in full}; with
    `paid_from`/`paid_to`, only orders paid in [paid_from, paid_to) (seller analytics)."""
    from django.db.models import Sum

    from orders.models import Order, OrderItem

    lines = OrderItem.objects.filter(
        product_id__in=product_ids, order__status__in=Order.WAS_PAID, refunded_at__isnull=True
    )
    if paid_from is not None:
        lines = lines.filter(order__paid_at__gte=paid_from)
    if paid_to is not None:
        lines = lines.filter(order__paid_at__lt=paid_to)
    rows = lines.values("product_id").annotate(units=Sum("quantity"))
    return {row["product_id"]: row["units"] for row in rows}


def listing_metrics_units_sold(product_ids: list[int]) -> dict[int, dict[str, int]]:
    """The seller's listings table column `units_sold_net` (a `catalog.hooks` metric)."""
    return {pid: {"units_sold_net": n} for pid, n in net_units_sold_by_product(product_ids).items()}


@dataclass
class CartLine:
    product: "Product"
    quantity: int
    line_total_cents: int
    # Why this line cannot be bought as it is (does not ship to the chosen country,
    # not buyable, already owned); "" when it can.
    problem: str = ""
    owned: bool = False  # a file the buyer already owns (link to their library)


@dataclass
class CartGroup:
    seller: User
    lines: list[CartLine] = field(default_factory=list)
    shipping_cents: int = 0
    subtotal_cents: int = 0
    has_printed: bool = False
    free_shipping: bool = False  # the shop's free-over threshold applies

    @property
    def unshippable(self) -> bool:
        """A printed line of this shop that cannot go to the chosen country."""
        return any(line.problem and line.product.kind == "PHYSICAL" for line in self.lines)


@dataclass
class CartView:
    groups: list[CartGroup]
    subtotal_cents: int
    shipping_cents: int
    currency: str
    missing: int  # lines whose listing no longer exists
    ship_to: str = ""  # the chosen country ("" = not chosen yet)

    @property
    def total_cents(self) -> int:
        return self.subtotal_cents + self.shipping_cents

    @property
    def is_empty(self) -> bool:
        return not self.groups

    @property
    def has_printed(self) -> bool:
        return any(g.has_printed for g in self.groups)

    @property
    def needs_ship_to(self) -> bool:
        return self.has_printed and not self.ship_to

    @property
    def problems(self) -> list[str]:
        return [
            f"“{line.product.title}”: {line.problem}"
            for g in self.groups
            for line in g.lines
            if line.problem
        ]

    @property
    def ship_to_name(self) -> str:
        from catalog.shipping import country_name

        return country_name(self.ship_to)


def order_lines_granting_files():
    """The one rule of who owns a file: FILE lines of paid (possibly partly refunded)
    orders that were not refunded themselves. Downloads' entitlement and the cart's
    "you already own this" both read it."""
    from orders.models import Order, OrderItem

    return OrderItem.objects.filter(
        kind="FILE", order__status__in=Order.WAS_PAID, refunded_at__isnull=True
    )


def files_owned_by(*, user: User, product_ids: list[int]) -> set[int]:
    """The FILE listings among `product_ids` that `user` already owns."""
    if not user.is_authenticated or not product_ids:
        return set()
    return set(
        order_lines_granting_files()
        .filter(product_id__in=product_ids, order__buyer=user)
        .values_list("product_id", flat=True)
    )


def file_purchased_by(*, product, user) -> bool:
    """The `catalog.hooks` "file purchased" answer (same rule as `files_owned_by`)."""
    return product.kind == "FILE" and product.pk in files_owned_by(
        user=user, product_ids=[product.pk]
    )


def cart_products(*, ids: list[int], user: User) -> dict:
    """{id: product} for a cart's listings, annotated with can_buy and with their
    shipping profiles and rates (one query each)."""
    from catalog.selectors import annotate_buyability, product_queryset_public

    queryset = (
        product_queryset_public()
        .filter(pk__in=ids)
        .select_related("shipping_profile")
        .prefetch_related("shipping_profile__rates")
    )
    return {p.pk: p for p in annotate_buyability(queryset, user=user)}


def cart_view(*, cart: dict, user: User, ship_to: str = "") -> CartView:
    """The cart grouped by seller, each seller's shipping to `ship_to` priced by the one
    shipping rule (`catalog.shipping.seller_shipping_quote`, as checkout will charge),
    and every line that cannot be bought as it is marked with the reason."""
    from catalog.shipping import seller_shipping_quote

    ids = [int(pk) for pk in cart]
    products = cart_products(ids=ids, user=user)
    owned = files_owned_by(user=user, product_ids=list(products))
    groups: dict[int, CartGroup] = {}
    for pk in ids:
        product = products.get(pk)
        if product is None:
            continue
        quantity = 1 if product.kind == "FILE" else int(cart[str(pk)])
        group = groups.setdefault(product.seller_id, CartGroup(seller=product.seller))
        line = CartLine(product, quantity, product.price_cents * quantity)
        if pk in owned:
            line.owned = True
            line.problem = "You already own this file."
        elif not product.can_buy:
            line.problem = product.cannot_buy_reason
        elif product.kind == "PHYSICAL" and quantity > product.stock_quantity:
            line.problem = f"Only {product.stock_quantity} in stock."
        group.lines.append(line)
        group.has_printed = group.has_printed or product.kind == "PHYSICAL"
    for group in groups.values():
        group.subtotal_cents = sum(line.line_total_cents for line in group.lines)
        quote = seller_shipping_quote(
            lines=[(line.product, line.quantity) for line in group.lines if not line.problem],
            country=ship_to,
        )
        group.shipping_cents = quote.cents
        group.free_shipping = quote.free
        for line in group.lines:
            if line.product.pk in quote.unavailable and ship_to:
                line.problem = quote.unavailable[line.product.pk]
    currency = next(iter(products.values())).currency if products else "usd"
    return CartView(
        groups=list(groups.values()),
        subtotal_cents=sum(g.subtotal_cents for g in groups.values()),
        shipping_cents=sum(g.shipping_cents for g in groups.values()),
        currency=currency,
        missing=len(ids) - sum(len(g.lines) for g in groups.values()),
        ship_to=ship_to,
    )


def order_get_for_viewer(*, pk: int, user: User, token: str | None):
    """The order if this viewer may see it: its buyer, staff, or anyone holding its
    access token (compared in constant time). Otherwise None (a 404, nothing revealed)."""
    from catalog.models import DigitalAsset
    from orders.models import Order, OrderItem

    order = (
        Order.objects.prefetch_related(
            Prefetch(
                "items",
                queryset=OrderItem.objects.select_related(
                    "seller__seller_profile", "product"
                ).prefetch_related(
                    Prefetch(
                        "product__assets",
                        queryset=DigitalAsset.objects.filter(removed_at__isnull=True),
                        to_attr="live_assets",
                    )
                ),
            ),
            "events",
        )
        .filter(pk=pk)
        .first()
    )
    if order is None:
        return None
    if user.is_authenticated and (user.is_staff or order.buyer_id == user.pk):
        return order
    if token and constant_time_compare(token, order.access_token):
        return order
    return None


def order_list_for_buyer(*, buyer: User):
    from orders.models import Order

    return Order.objects.filter(buyer=buyer).prefetch_related("items")


def sales_for_seller(*, seller: User) -> list:
    """The seller's own lines of paid orders only (an abandoned checkout is no sale),
    newest first, with their order. Each carries
    `next_fulfillment`: the step the seller may take on it now, or None."""
    from orders.models import Order, OrderItem

    items = list(
        OrderItem.objects.filter(seller=seller, order__status__in=Order.WAS_PAID)
        .select_related("order")
        .order_by("-order__created_at", "id")
    )
    for item in items:
        item.next_fulfillment = order_item_next_fulfillment(item)
        order_item_decorate(item, item.order)
    return items


def order_item_next_fulfillment(item) -> str | None:
    """The fulfilment status the seller may move a line to now (the rule the fulfilment
    services enforce): the next step in FULFILLMENT_TRANSITIONS, only on a paid order."""
    from orders.models import Order, OrderItem

    if item.order.status not in Order.WAS_PAID or item.refunded_at is not None:
        return None
    if item.fulfillment_status != OrderItem.Fulfillment.UNFULFILLED:
        return None  # delivery is the buyer's to confirm (or automatic), never the seller's
    return next(iter(OrderItem.FULFILLMENT_TRANSITIONS[item.fulfillment_status]), None)


def items_by_seller(items) -> dict:
    """{seller: [their lines]} for one order's lines, in the order given."""
    grouped = defaultdict(list)
    for item in items:
        grouped[item.seller].append(item)
    return dict(grouped)


def order_item_decorate(item, order) -> None:
    """Attach what a page shows for a line's fulfilment: `tracking_link`,
    `carrier_label` and `dispatch_by` (paid + the listing's longest processing time,
    in business days) for printed items."""
    from catalog.shipping import add_business_days
    from orders.tracking import carrier_name, tracking_url

    item.tracking_link = tracking_url(item.carrier, item.tracking_number)
    item.carrier_label = carrier_name(item.carrier)
    item.dispatch_by = None
    if item.kind == "PHYSICAL" and order.paid_at and item.processing_max_days is not None:
        item.dispatch_by = add_business_days(order.paid_at.date(), item.processing_max_days)


def order_buyer_events(order) -> list:
    """The buyer's timeline: buyer-facing events only (no payouts, no internal notes)."""
    from orders.models import OrderEvent

    return [e for e in order.events.all() if e.kind in OrderEvent.BUYER_KINDS]


def seller_sale_get(*, seller: User, order_pk: int):
    """(order, the seller's own lines of it) for their per-sale page, or None when the
    seller sold nothing on that order (or it was never paid): a 404 that says nothing.
    Another seller's lines are never loaded."""
    from orders.models import Order, OrderItem

    order = Order.objects.filter(pk=order_pk).exclude(status=Order.Status.PENDING).first()
    if order is None:
        return None
    items = list(
        OrderItem.objects.filter(order=order, seller=seller).select_related("product", "order")
    )
    if not items:
        return None
    for item in items:
        item.next_fulfillment = order_item_next_fulfillment(item)
        order_item_decorate(item, order)
    return order, items


def order_can_restore(order) -> bool:
    """Whether an order's lines may go back in a cart: only a checkout that closed
    unpaid (a PENDING one still holds its stock; a paid one is bought)."""
    from orders.models import Order

    return order.status in (Order.Status.EXPIRED, Order.Status.CANCELLED, Order.Status.FAILED)


def order_context_for_messaging(*, order_id: int, seller_id: int):
    """messaging's `order context` hook: the paid order `order_id` as seller `seller_id`
    sold it (their lines only), or None when they sold nothing on it or it was never
    paid. Two queries."""
    from django.urls import reverse

    from messaging.hooks import OrderContext
    from orders.models import Order, OrderItem

    order = (
        Order.objects.select_related("buyer").filter(pk=order_id, status__in=Order.WAS_PAID).first()
    )
    if order is None:
        return None
    items = list(OrderItem.objects.filter(order=order, seller_id=seller_id).order_by("pk"))
    if not items:
        return None
    buyer_name = (order.buyer.name if order.buyer else "") or order.ship_name or order.email
    return OrderContext(
        order_id=order.pk,
        number=f"#{order.pk}",
        status=order.get_status_display(),
        buyer_id=order.buyer_id,
        buyer_email=order.email,
        buyer_name=buyer_name,
        lines=tuple(
            f"{i.quantity} × {i.title} — {i.get_fulfillment_status_display()}" for i in items
        ),
        sale_path=reverse("orders:seller-sale-detail", kwargs={"order_pk": order.pk}),
        order_path=reverse("orders:order-detail", kwargs={"pk": order.pk}),
        access_token=order.access_token,
    )
