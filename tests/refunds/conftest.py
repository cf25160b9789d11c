"""Fixtures shared by the refunds tests."""

import pytest

from orders.services import order_create_from_cart
from payments.checkout import checkout_start
from payments.simulator import simulator_session_pay


@pytest.fixture
def paid(django_capture_on_commit_callbacks):
    """A paid two-seller order: a printed item ($30 + $5 shipping) and a file ($12)."""

    def make(*products, buyer=None):
        order = order_create_from_cart(
            cart={str(p.pk): 1 for p in products}, buyer=buyer, email="buyer@example.com"
        )
        checkout_start(order=order, success_url="http://t/ok/", cancel_url="http://t/cart/")
        order.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            simulator_session_pay(session_id=order.stripe_checkout_session_id)
        order.refresh_from_db()
        assert order.status == "PAID"
        return order

    return make
