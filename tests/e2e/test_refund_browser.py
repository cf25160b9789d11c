import re

import pytest

from orders.services import order_create_from_cart
from payments.checkout import checkout_start
from payments.models import SellerBalanceEntry
from payments.simulator import simulator_session_pay
from refunds.models import RefundRequest
from tests.catalog.factories import ProductFactory
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.helpers import log_in
from tests.factories import SellerProfileFactory, UserFactory
from tests.orders.factories import SIM_SHIPPING

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000, f"screenshot {path} looks empty"


def _both_widths(page, name: str) -> None:
    """Full-page screenshots at desktop and phone widths."""
    _shot(page, f"{name}-1280")
    page.set_viewport_size(PHONE)
    _shot(page, f"{name}-390")
    page.set_viewport_size(DESKTOP)


def test_a_buyer_asks_the_seller_approves_part_and_staff_see_it_balanced(
    live_server, browser, page
):
    # given a paid order of a printed dragon ($30 + $5 shipping) and a file
    seller = SellerProfileFactory(display_name="Maple Prints").user
    printed = ProductFactory(
        seller=seller,
        title="Painted Dragon",
        physical=True,
        price_cents=3000,
        shipping_cents=500,
        stock_quantity=3,
        status="PUBLISHED",
        complete=True,
        seller_ready=True,
    )
    file = ProductFactory(
        title="Spiral Vase", price_cents=1200, status="PUBLISHED", complete=True, seller_ready=True
    )
    buyer = UserFactory(name="Robin Buyer")
    staff = UserFactory(name="Sam Staff", is_staff=True)
    order = order_create_from_cart(
        cart={str(printed.pk): 1, str(file.pk): 1},
        buyer=buyer,
        email=buyer.email,
        ship_to_country="US",
    )
    checkout_start(order=order, success_url="http://t/ok/", cancel_url="http://t/cart/")
    order.refresh_from_db()
    simulator_session_pay(session_id=order.stripe_checkout_session_id, shipping=SIM_SHIPPING)
    line = order.items.get(product=printed)
    base = live_server.url

    # when the buyer opens their order and asks for the dragon back
    log_in(page, base, buyer.email)
    page.goto(base + f"/orders/{order.pk}/")
    assert page.get_by_role("link", name="Request a refund").count() == 2
    page.locator(f'a[href="/orders/{order.pk}/items/{line.pk}/refund/"]').click()
    page.wait_for_url(re.compile(r"/refund/$"))
    assert "Our refund policy" in page.content()
    page.get_by_label("It arrived damaged").check()
    page.get_by_label("Anything the seller should know?").fill("One wing snapped off.")
    _both_widths(page, "refund-request-form")
    page.get_by_role("button", name="Send my request").click()

    # then they land on their request, waiting for the seller
    page.wait_for_url(re.compile(r"/refunds/\d+/$"))
    assert "Your request for $35.00 is sent to the seller." in page.content()
    _both_widths(page, "refund-request-detail")

    # when the seller approves $20.00 of it from their queue
    seller_context = browser.new_context(viewport=DESKTOP)
    seller_page = seller_context.new_page()
    seller_page.set_default_timeout(15_000)
    log_in(seller_page, base, seller.email)
    seller_page.goto(base + "/seller/refunds/")
    assert "Painted Dragon" in seller_page.content()
    _shot(seller_page, "seller-refund-queue-1280")
    seller_page.get_by_role("link", name="Decide").click()
    seller_page.get_by_label("Amount to refund").fill("20.00")
    seller_page.get_by_label("Note to the buyer (optional)").fill("Sorry! Keep the rest.")
    _both_widths(seller_page, "seller-refund-decide")
    seller_page.get_by_role("button", name="Approve refund").click()
    seller_page.wait_for_url(re.compile(r"/seller/refunds/$"))
    assert "Refund of $20.00 approved; the buyer is told." in seller_page.content()
    seller_context.close()

    # then the request is refunded, and the seller's share went back through the ledger
    refund = RefundRequest.objects.get()
    assert (refund.status, refund.approved_amount_cents) == ("REFUNDED", 2000)
    assert SellerBalanceEntry.objects.filter(seller=seller, reason="REFUND").count() == 1

    # and the buyer's order page shows the refunded chip
    page.goto(base + f"/orders/{order.pk}/")
    assert page.locator('[data-refund-status="REFUNDED"]').count() == 1
    _both_widths(page, "buyer-order-refunded")

    # when staff open the order's reconciliation page
    staff_context = browser.new_context(viewport=DESKTOP)
    staff_page = staff_context.new_page()
    staff_page.set_default_timeout(15_000)
    log_in(staff_page, base, staff.email)
    staff_page.goto(base + f"/staff/reconciliation/orders/{order.pk}/")

    # then it is balanced, with the refund, the reversal and both ledgers
    assert staff_page.locator('[data-verdict="balanced"]').count() == 1
    body = staff_page.content()
    for text in ("Transfer reversal", "Refund of an order line", "Platform ledger", "$20.00"):
        assert text in body
    _both_widths(staff_page, "staff-reconciliation")
    staff_context.close()
