from orders.models import Order
from orders.services import (
    order_create_from_cart,
    order_payment_succeeded,
    order_record_shipping_address,
)

TEST_ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "line2": "Apt 3",
    "city": "Toronto",
    "region": "ON",
    "postal_code": "M5V 2T6",
    "country": "US",
    "phone": "+1 416 555 0199",
}


def address_in(country: str) -> dict:
    return {**TEST_ADDRESS, "country": country}


def paid_order(*products, buyer=None, email="buyer@example.com", ship_to="US") -> Order:
    """One of each product bought through the real services: a cart turned into an order
    (printed items shipped to `ship_to`, with a test address collected at payment), then
    Stripe's success (a free order completes without a Checkout Session)."""
    order = order_create_from_cart(
        cart={str(p.pk): 1 for p in products}, buyer=buyer, email=email, ship_to_country=ship_to
    )
    order_record_shipping_address(order_id=order.pk, address=address_in(ship_to))
    if order.total_cents:
        Order.objects.filter(pk=order.pk).update(stripe_checkout_session_id=f"cs_{order.pk}")
    return order_payment_succeeded(
        order_id=order.pk,
        checkout_session_id=f"cs_{order.pk}" if order.total_cents else "",
        payment_intent_id="pi_1",
        charge_id="ch_1",
    )


# What a buyer types on the simulator's checkout page (the country is the session's).
SIM_SHIPPING = {
    "name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "city": "Springfield",
    "state": "IL",
    "postal_code": "62701",
    "country": "US",
}
