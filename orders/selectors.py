from django.http import HttpRequest

# The session cart: {"<product id>": quantity}. Written only by orders.services.
SESSION_CART_KEY = "cart"


def cart_item_count(request: HttpRequest) -> int:
    """Number of items in the visitor's cart, for the header badge (no query)."""
    session = getattr(request, "session", None)
    if session is None:
        return 0
    return sum(int(q) for q in session.get(SESSION_CART_KEY, {}).values())


def net_units_sold_by_product(product_ids: list[int]) -> dict[int, int]:
    """{product_id: units sold minus units refunded} over paid order lines.

    Orders arrive with the money-core capability; until then every product reads 0.
    """
    return {}
