from django.http import HttpRequest


def cart_item_count(request: HttpRequest) -> int:
    """Number of items in the visitor's cart, for the header badge.

    The cart itself arrives with the money-core capability; until then it is empty.
    """
    return 0
