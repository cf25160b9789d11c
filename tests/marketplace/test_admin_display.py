"""The admin shows money as amounts and fees as percentages, never raw minor units."""

import re

import pytest
from django.contrib import admin

from catalog.models import ProductSlugHistory
from marketplace.selectors import site_config_get
from tests.catalog.factories import ProductFactory
from tests.factories import SellerProfileFactory, UserFactory
from tests.orders.factories import paid_order

pytestmark = pytest.mark.django_db


def _readonly(html: str, label: str) -> str:
    """The read-only value the admin shows next to `label`."""
    match = re.search(
        rf"<label>{re.escape(label)}:</label>\s*<div class=\"readonly\">(.*?)</div>", html, re.S
    )
    assert match, f"no read-only field {label!r}"
    return match.group(1).strip()


def _cell(html: str, column: str) -> str:
    """The first inline table cell of `column`."""
    match = re.search(rf'<td class="field-{column}">\s*<p>(.*?)</p>', html, re.S)
    assert match, f"no inline column {column!r}"
    return match.group(1).strip()


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_site_config_shows_the_fee_as_a_percentage_and_amounts_in_dollars(staff_client):
    # given the default configuration (10% fee, $1.00 minimum price, no fixed fee)
    config = site_config_get()
    # when staff open it
    html = staff_client.get(f"/admin/marketplace/siteconfig/{config.pk}/change/").content.decode()
    # then each basis-points or cents value is followed by how it reads
    assert _readonly(html, "Fee as a percentage") == "10.00%"
    assert _readonly(html, "Minimum price") == "$1.00"
    assert _readonly(html, "Fixed fee per seller order") == "$0.00"
    # in the order of the fields they explain
    assert html.index('name="fee_bps"') < html.index("Fee as a percentage")
    assert html.index("Fee as a percentage") < html.index('name="free_listing_cap"')


def test_an_order_in_the_admin_shows_amounts_and_the_fee_rate(staff_client):
    # given a paid $12.50 file order at the default 10% fee
    product = ProductFactory(
        seller=SellerProfileFactory().user,
        price_cents=1250,
        status="PUBLISHED",
        complete=True,
        seller_ready=True,
    )
    order = paid_order(product)
    # when staff open the order and the list
    html = staff_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    listing = staff_client.get("/admin/orders/order/").content.decode()
    # then the order's amounts and its line's split read as money and a percentage
    assert _readonly(html, "Total") == "$12.50"
    assert _readonly(html, "Subtotal") == "$12.50"
    assert _readonly(html, "Fee rate") == "10.00%"
    assert _cell(html, "marketplace_fee") == "$1.25"
    assert _cell(html, "seller_net") == "$11.25"
    assert _cell(html, "fee_rate") == "10.00%"
    assert '<td class="field-total">$12.50</td>' in listing
    assert "Total cents" not in html and "Fee bps" not in html


def test_a_product_in_the_admin_shows_its_price_as_an_amount_and_staff_cannot_edit_it(
    staff_client,
):
    # given a $4.50 listing
    product = ProductFactory(price_cents=450, status="PUBLISHED", complete=True)
    # when staff open it
    html = staff_client.get(f"/admin/catalog/product/{product.pk}/change/").content.decode()
    # then the price reads as money and there is no price input
    assert _readonly(html, "Price") == "$4.50"
    assert 'name="price_cents"' not in html


def test_old_slugs_are_named_in_plain_english():
    assert ProductSlugHistory._meta.verbose_name_plural == "old product slugs"
    assert admin.site.is_registered(ProductSlugHistory)
