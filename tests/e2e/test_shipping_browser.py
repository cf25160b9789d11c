"""A guest ships a printed item to Canada; the seller prints the slip and ships with
tracking; the buyer sees the link. Screenshots at 1280 px and 390 px."""

import re

import pytest

from orders.models import Order
from tests.catalog.factories import ProductFactory, shipping_profile
from tests.e2e.helpers import log_in
from tests.factories import SellerProfileFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _both_widths(page, screenshot, name):
    screenshot(f"{name}-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(f"{name}-390")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_guest_ships_to_canada_and_the_seller_ships_with_tracking(live_server, page, screenshot):
    # given a Canadian print shop (ships to Canada 7.95 + 2.00 each) and a file shop
    printer = SellerProfileFactory(display_name="Orbit Minis")
    designer = SellerProfileFactory(display_name="Maple Prints")
    profile = shipping_profile(
        printer.user,
        origin="CA",
        country="CA",
        first_item_cents=795,
        additional_item_cents=200,
        processing=(2, 4),
        extra_rates=[("US", 1195, 300)],
    )
    dragon = ProductFactory(
        seller=printer.user,
        title="Painted Dragon",
        physical=True,
        price_cents=3500,
        stock_quantity=3,
        shipping_profile=profile,
        status="PUBLISHED",
        complete=True,
        seller_ready=True,
    )
    vase = ProductFactory(
        seller=designer.user,
        title="Spiral Vase",
        price_cents=1250,
        status="PUBLISHED",
        complete=True,
        seller_ready=True,
    )
    base = live_server.url

    # when a guest adds both, and picks "Ship to: Canada"
    for product in (dragon, vase):
        page.goto(base + product.get_absolute_url())
        page.locator('form[action="/cart/add/"] button[type="submit"]').first.click()
        page.wait_for_load_state()
    page.goto(base + "/cart/")
    assert "Choose where to ship" in page.content()
    page.locator('select[name="country"]').select_option("CA")
    page.locator('form[action="/cart/ship-to/"] button[type="submit"]').click()
    page.wait_for_load_state()
    # then each shop's shipping to Canada is shown before checkout
    content = page.content()
    assert "Shipping to Canada: $7.95" in content
    assert "$55.45" in content  # 35.00 + 12.50 + 7.95
    _both_widths(page, screenshot, "ship-cart")

    # when they check out and type an address on the simulator's page
    page.goto(base + "/checkout/")
    page.locator('input[name="email"]').fill("jeanne@example.com")
    page.locator('input[name="accept_terms"]').check()
    page.locator('main form button[type="submit"]').click()
    page.wait_for_url(re.compile(r"/payments/simulator/checkout/"))
    assert "ships to Canada only" in page.content()
    _both_widths(page, screenshot, "ship-simulator")
    page.locator('input[name="name"]').fill("Jeanne Tremblay")
    page.locator('input[name="line1"]').fill("1234 Rue Sainte-Catherine O")
    page.locator('input[name="line2"]').fill("Apt 5")
    page.locator('input[name="city"]').fill("Montréal")
    page.locator('input[name="state"]').fill("QC")
    page.locator('input[name="postal_code"]').fill("H3G 1P1")
    page.locator('button[value="pay"]').click()
    page.wait_for_url(re.compile(r"/orders/\d+/\?t="))
    buyer_url = page.url
    order = Order.objects.get()
    assert (order.status, order.ship_country, order.ship_city) == ("PAID", "CA", "Montréal")
    assert "Preparing" in page.content() and "Estimated dispatch by" in page.content()

    # when the printer opens the sale, prints the packing slip and ships with tracking
    seller_page = page.context.browser.new_context(viewport={"width": 1280, "height": 900})
    seller = seller_page.new_page()
    log_in(seller, base, printer.user.email)
    seller.goto(base + f"/seller/sales/orders/{order.pk}/")
    assert "1234 Rue Sainte-Catherine O" in seller.content()
    seller.goto(base + f"/seller/sales/orders/{order.pk}/packing-slip/")
    assert "Jeanne Tremblay" in seller.content() and "Painted Dragon" in seller.content()
    assert "Spiral Vase" not in seller.content()
    seller.emulate_media(media="print")
    seller.screenshot(path=str(_shots() / "ship-packing-slip-print-1280.png"), full_page=True)
    seller.emulate_media(media="screen")
    seller.set_viewport_size({"width": 390, "height": 844})
    seller.screenshot(path=str(_shots() / "ship-packing-slip-390.png"), full_page=True)
    seller.set_viewport_size({"width": 1280, "height": 900})
    seller.goto(base + f"/seller/sales/orders/{order.pk}/")
    seller.locator('select[name="carrier"]').select_option("canada_post")
    seller.locator('input[name="tracking_number"]').fill("7023210039414604")
    seller.get_by_role("button", name="Mark shipped").click()
    seller.wait_for_load_state()
    assert "marked shipped" in seller.content()
    seller_page.close()

    # then the buyer's order page shows Shipped with Canada Post's tracking link
    page.goto(buyer_url)
    link = page.locator('a[href*="canadapost-postescanada.ca"]')
    assert link.inner_text() == "7023210039414604"
    assert "searchFor=7023210039414604" in link.get_attribute("href")
    _both_widths(page, screenshot, "ship-buyer-order")


def _shots():
    from tests.e2e.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
