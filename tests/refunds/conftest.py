"""Fixtures shared by the refunds tests."""

from types import SimpleNamespace

import pytest

from orders.services import order_create_from_cart
from payments.checkout import checkout_start
from payments.simulator import simulator_session_pay
from tests.catalog.factories import ProductFactory
from tests.factories import SellerProfileFactory, UserFactory
from tests.orders.factories import SIM_SHIPPING


@pytest.fixture
def paid(django_capture_on_commit_callbacks):
    """A paid two-seller order: a printed item ($30 + $5 shipping) and a file ($12)."""

    def make(*products, buyer=None):
        order = order_create_from_cart(
            cart={str(p.pk): 1 for p in products},
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


@pytest.fixture
def world(paid):
    """A paid order of `buyer`: a printed item of `seller` ($30 + $5 shipping) and a
    file of `file_seller` ($12); and the people who must not touch it."""
    seller = SellerProfileFactory(display_name="Maple Prints").user
    file_seller = SellerProfileFactory(display_name="Orbit Files").user
    printed = ProductFactory(
        seller=seller,
        title="Painted Dragon",
        status="PUBLISHED",
        complete=True,
        seller_ready=True,
        physical=True,
        stock_quantity=3,
        price_cents=3000,
        shipping_cents=500,
    )
    file = ProductFactory(
        seller=file_seller,
        title="Spiral Vase",
        status="PUBLISHED",
        complete=True,
        seller_ready=True,
        price_cents=1200,
    )
    buyer = UserFactory()
    order = paid(printed, file, buyer=buyer)
    return SimpleNamespace(
        order=order,
        line=order.items.get(product=printed),
        file_line=order.items.get(product=file),
        buyer=buyer,
        seller=seller,
        file_seller=file_seller,
        other_buyer=UserFactory(),
        other_seller=SellerProfileFactory().user,
        staff=UserFactory(is_staff=True),
    )
