from django.http import HttpRequest


def cart_item_count(request: HttpRequest) -> int:
    """Number of items in the visitor's cart, for the header badge.

    The cart itself arrives with the money-core capability; until then it is empty.
    """
    return 0


def net_units_sold_by_product(product_ids: list[int]) -> dict[int, int]:
    """{product_id: units sold minus units refunded} over paid order lines.

    Orders arrive with the money-core capability; until then every product reads 0.
    """
    return {}
