"""Layout checks a screenshot review found: measured in the browser at desktop widths."""

import pytest

from tests.catalog.factories import ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOT_CLIPPED = "e => e.scrollWidth <= e.clientWidth"


@pytest.mark.parametrize("width", [390, 1280, 1440])
def test_the_checkout_button_and_the_cart_badge_are_never_clipped_or_covered(
    live_server, browser, width
):
    # given a paid file in a guest's cart
    product = ProductFactory(
        title="Spiral Vase",
        price_cents=123456,
        status="PUBLISHED",
        complete=True,
        seller_ready=True,
    )
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(live_server.url + product.get_absolute_url())
    page.locator('form[action="/cart/add/"] button[type="submit"]').first.click()
    page.wait_for_load_state()
    # when the guest opens the checkout
    page.goto(live_server.url + "/checkout/")
    # then the pay button shows its whole label
    button = page.locator('main form button[type="submit"]')
    assert "Continue to payment" in button.inner_text()
    assert button.evaluate(NOT_CLIPPED)
    # and the cart count sits on the bag icon, clear of the "Cart" label when it shows
    badge = page.locator(".cart-link .count-badge").bounding_box()
    label = page.locator(".cart-link .nav-icon__label")
    if label.is_visible():
        text = label.bounding_box()
        assert badge["x"] + badge["width"] <= text["x"]
    page.context.close()
