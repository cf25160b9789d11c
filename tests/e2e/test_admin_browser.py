"""The admin at a laptop width: staff read an order's lines without scrolling sideways."""

import pytest

from tests.catalog.factories import ProductFactory
from tests.e2e.helpers import log_in
from tests.factories import SellerProfileFactory, UserFactory
from tests.orders.factories import paid_order

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_order_items_table_fits_the_admin_at_1280px(live_server, page, screenshot):
    # given a paid order with a long-titled file and a printed item from another shop
    file = ProductFactory(
        seller=SellerProfileFactory().user,
        title="Self-watering succulent planter with drainage tray and hidden reservoir",
        price_cents=123456,
        status="PUBLISHED",
        complete=True,
        seller_ready=True,
    )
    printed = ProductFactory(
        physical=True,
        seller=SellerProfileFactory().user,
        title="Printed cable organiser, set of six",
        status="PUBLISHED",
        complete=True,
        seller_ready=True,
    )
    order = paid_order(file, printed)
    staff = UserFactory(is_staff=True, is_superuser=True)
    # when staff open the order at 1280 px
    log_in(page, live_server.url, staff.email)
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    screenshot("admin-order-items-1280")
    # then the items table is no wider than its module, and nothing scrolls sideways
    table = page.locator("#items-group table")
    module = page.locator("#items-group")
    assert table.bounding_box()["width"] <= module.bounding_box()["width"] + 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert "$1,234.56" in table.inner_text()
