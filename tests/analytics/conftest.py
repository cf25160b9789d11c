"""Fixtures of the analytics tests: a seller with a shop and paid orders made through
the real checkout and the local payment simulator."""

import pytest

from orders.services import order_create_from_cart
from payments.checkout import checkout_start
from payments.simulator import simulator_session_pay
from tests.orders.factories import SIM_SHIPPING

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"}


@pytest.fixture
def pay(django_capture_on_commit_callbacks):
    """Buy `products` (quantities via `cart`) as `buyer` and pay on the simulator."""

    def make(*products, buyer=None, quantity: int = 1):
        order = order_create_from_cart(
            cart={str(p.pk): quantity for p in products},
            buyer=buyer,
            email="buyer@example.com",
            ship_to_country="US",
        )
        checkout_start(order=order, success_url="http://t/ok/", cancel_url="http://t/cart/")
        order.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            simulator_session_pay(
                session_id=order.stripe_checkout_session_id, shipping=SIM_SHIPPING
            )
        order.refresh_from_db()
        assert order.status == "PAID"
        return order

    return make
