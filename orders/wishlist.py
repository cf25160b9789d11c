"""Wishlist → cart: a cart write that consumes a catalog wishlist item, so it lives in
orders (the cart's app), above the catalog that owns the wishlist."""

from django.db import transaction

from catalog.models import Product, WishlistItem
from marketplace.exceptions import ApplicationError
from marketplace.models import User
from orders.services import cart_add


@transaction.atomic
def wishlist_move_to_cart(*, user: User, product: Product, cart: dict) -> dict:
    """Put a wishlist item in the session cart and take it off the wishlist; returns the
    new cart. Whatever `orders.services.cart_add` refuses (can_buy, stock, a file already
    in the cart) raises ApplicationError and the wishlist item stays."""
    item = WishlistItem.objects.select_for_update().filter(user=user, product=product).first()
    if item is None:
        raise ApplicationError("This listing is not in your wishlist.")
    cart = cart_add(cart=cart, product=product, user=user)
    item.delete()
    return cart
