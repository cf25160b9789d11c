from orders.models import Order
from orders.services import order_create_from_cart, order_payment_succeeded


def paid_order(*products, buyer=None, email="buyer@example.com") -> Order:
    """One of each product bought through the real services: a cart turned into an order,
    then Stripe's success (a free order completes without a Checkout Session)."""
    order = order_create_from_cart(cart={str(p.pk): 1 for p in products}, buyer=buyer, email=email)
    if order.total_cents:
        Order.objects.filter(pk=order.pk).update(stripe_checkout_session_id=f"cs_{order.pk}")
    return order_payment_succeeded(
        order_id=order.pk,
        checkout_session_id=f"cs_{order.pk}" if order.total_cents else "",
        payment_intent_id="pi_1",
        charge_id="ch_1",
    )
