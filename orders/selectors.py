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
_ACCESS_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


def access_token_from(value: str | None) -> str | None:
    """An order access token from a URL, or None when it cannot be one (so junk such as
    NUL bytes never reaches a database query)."""
    return value if value and _ACCESS_TOKEN.fullmatch(value) else None


def cart_item_count(request: HttpRequest) -> int:
    """Number of items in the visitor's cart, for the header badge (no query)."""
    session = getattr(request, "session", None)
    if session is None:
        return 0
    return sum(int(q) for q in session.get(SESSION_CART_KEY, {}).values())


def net_units_sold_by_product(product_ids: list[int]) -> dict[int, int]:
    """{product_id: units sold on paid orders, less the lines refunded in full}."""
    from django.db.models import Sum

    from orders.models import Order, OrderItem

    rows = (
        OrderItem.objects.filter(
            product_id__in=product_ids, order__status__in=Order.WAS_PAID, refunded_at__isnull=True
        )
        .values("product_id")
        .annotate(units=Sum("quantity"))
    )
    return {row["product_id"]: row["units"] for row in rows}


def listing_metrics_units_sold(product_ids: list[int]) -> dict[int, dict[str, int]]:
    """The seller's listings table column `units_sold_net` (a `catalog.hooks` metric)."""
    return {pid: {"units_sold_net": n} for pid, n in net_units_sold_by_product(product_ids).items()}


@dataclass
class CartGroup:
    seller: User
    lines: list = field(default_factory=list)  # [(product, quantity, line_total_cents)]
    shipping_cents: int = 0
    subtotal_cents: int = 0


@dataclass
class CartView:
    groups: list[CartGroup]
    subtotal_cents: int
    shipping_cents: int
    currency: str
    missing: int  # lines whose listing no longer exists

    @property
    def total_cents(self) -> int:
        return self.subtotal_cents + self.shipping_cents

    @property
    def is_empty(self) -> bool:
        return not self.groups


def seller_shipping_cents(products: "list[Product]") -> int:
    """One seller's shipping for an order: their physical items ship together, so the
    buyer pays the highest shipping price among them once (0 for files)."""
    from catalog.models import Product

    return max(
        (p.shipping_cents or 0 for p in products if p.kind == Product.Kind.PHYSICAL), default=0
    )


def cart_view(*, cart: dict, user: User) -> CartView:
    """The cart grouped by seller with each seller's shipping (as checkout will charge)."""
    from catalog.selectors import annotate_buyability, product_queryset_public

    ids = [int(pk) for pk in cart]
    products = {
        p.pk: p
        for p in annotate_buyability(product_queryset_public().filter(pk__in=ids), user=user)
    }
    groups: dict[int, CartGroup] = {}
    for pk in ids:
        product = products.get(pk)
        if product is None:
            continue
        quantity = 1 if product.kind == "FILE" else int(cart[str(pk)])
        group = groups.setdefault(product.seller_id, CartGroup(seller=product.seller))
        group.lines.append((product, quantity, product.price_cents * quantity))
    for group in groups.values():
        group.subtotal_cents = sum(total for _, _, total in group.lines)
        group.shipping_cents = seller_shipping_cents([p for p, _, _ in group.lines])
    currency = next(iter(products.values())).currency if products else "usd"
    return CartView(
        groups=list(groups.values()),
        subtotal_cents=sum(g.subtotal_cents for g in groups.values()),
        shipping_cents=sum(g.shipping_cents for g in groups.values()),
        currency=currency,
        missing=len(ids) - sum(len(g.lines) for g in groups.values()),
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
    """The seller's own lines only, newest first, with their order. Each carries
    `next_fulfillment`: the step the seller may take on it now, or None."""
    from orders.models import Order, OrderItem

    items = list(
        OrderItem.objects.filter(seller=seller)
        .exclude(order__status=Order.Status.PENDING)
        .select_related("order")
        .order_by("-order__created_at", "id")
    )
    for item in items:
        item.next_fulfillment = order_item_next_fulfillment(item)
    return items


def order_item_next_fulfillment(item) -> str | None:
    """The fulfilment status the seller may move a line to now (the rule the fulfilment
    services enforce): the next step in FULFILLMENT_TRANSITIONS, only on a paid order."""
    from orders.models import Order, OrderItem

    if item.order.status not in Order.WAS_PAID or item.refunded_at is not None:
        return None
    return next(iter(OrderItem.FULFILLMENT_TRANSITIONS[item.fulfillment_status]), None)


def items_by_seller(items) -> dict:
    """{seller: [their lines]} for one order's lines, in the order given."""
    grouped = defaultdict(list)
    for item in items:
        grouped[item.seller].append(item)
    return dict(grouped)
