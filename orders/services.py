"""Writes for the cart (and, with the money core, checkout and orders)."""

from catalog.models import Product
from catalog.selectors import product_cannot_buy_reason
from marketplace.exceptions import ApplicationError
from marketplace.models import User
from payments.selectors import seller_is_payment_ready


def cart_add(*, cart: dict, product: Product, user: User, quantity: int = 1) -> dict:
    """Add `quantity` of `product` to a session cart ({"<product id>": quantity}) and
    return the new cart. Refuses, with the reason, anything `can_buy` refuses; a file is
    bought once, a printed item at most as many times as there are in stock."""
    reason = product_cannot_buy_reason(
        product, user=user, seller_ready=seller_is_payment_ready(seller_id=product.seller_id)
    )
    if reason:
        raise ApplicationError(reason)
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
