import re
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command

from orders.models import Order
from payments.models import SellerBalanceEntry, SellerTransfer
from tests.catalog.factories import ProductFactory
from tests.factories import SellerProfileFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_guest_buys_a_multi_seller_cart_through_the_simulator(live_server, page, screenshot):
    # given two sellers ready for payments, a paid file and a printed item
    first = SellerProfileFactory(display_name="Maple Prints")
    second = SellerProfileFactory(display_name="Orbit Minis")
    file = ProductFactory(
        seller=first.user,
        title="Spiral Vase",
        price_cents=1250,
        status="PUBLISHED",
        complete=True,
        seller_ready=True,
    )
    printed = ProductFactory(
        seller=second.user,
        title="Painted Dragon",
        physical=True,
        price_cents=3500,
        shipping_cents=495,
        stock_quantity=2,
        status="PUBLISHED",
        complete=True,
        seller_ready=True,
    )
    base = live_server.url

    # when a guest adds both to the cart
    for product in (file, printed):
        page.goto(base + product.get_absolute_url())
        page.locator('form[action="/cart/add/"] button[type="submit"]').first.click()
        page.wait_for_load_state()
    page.goto(base + "/cart/")
    page.locator('select[name="country"]').select_option("US")
    page.locator('form[action="/cart/ship-to/"] button[type="submit"]').click()
    page.wait_for_load_state()
    assert "$52.45" in page.content()  # 12.50 + 35.00 + 4.95 shipping
    screenshot("guest-cart")

    # and checks out with an email, then pays on the simulator's test page
    page.goto(base + "/checkout/")
    page.locator('input[name="email"]').fill("guest.buyer@example.com")
    page.locator('input[name="accept_terms"]').check()
    page.locator('main form button[type="submit"]').click()
    page.wait_for_url(re.compile(r"/payments/simulator/checkout/"))
    assert "TEST MODE" in page.content().upper()
    screenshot("simulator-checkout")
    page.locator('input[name="name"]').fill("Gia Guest")
    page.locator('input[name="line1"]').fill("1 Main St")
    page.locator('input[name="city"]').fill("Springfield")
    page.locator('input[name="postal_code"]').fill("62701")
    page.locator('button[value="pay"]').click()

    # then they land on their order page (guest token link), paid
    page.wait_for_url(re.compile(r"/orders/\d+/\?t="))
    assert "Paid" in page.content()
    screenshot("guest-order-page")
    order = Order.objects.get()
    assert (order.status, order.total_cents, order.email) == (
        "PAID",
        5245,
        "guest.buyer@example.com",
    )

    # and every seller got one transfer and a ledger that nets to zero, to the cent
    fee = {file.seller_id: 125, printed.seller_id: 350}
    for seller, gross, shipping in ((file.seller, 1250, 0), (printed.seller, 3500, 495)):
        payable = gross - fee[seller.pk] + shipping
        transfer = SellerTransfer.objects.get(order=order, seller=seller)
        assert (transfer.status, transfer.amount_cents) == ("CREATED", payable)
        rows = dict(
            SellerBalanceEntry.objects.filter(seller=seller).values_list("reason", "amount_cents")
        )
        assert rows == {"SALE": payable, "TRANSFER": -payable}
    call_command("reconcile_ledger")  # raises CommandError on any drift

    # and the guest's receipt links to the order with its token; sellers got sale emails
    receipt = next(m for m in mail.outbox if m.to == ["guest.buyer@example.com"])
    assert f"/orders/{order.pk}/?t={order.access_token}" in receipt.body
    assert {m.to[0] for m in mail.outbox} >= {first.user.email, second.user.email}

    # and from the order page the guest downloads exactly the bytes the seller uploaded
    asset = file.assets.get()
    with page.expect_download() as download_info:
        page.locator(f'a[href^="/downloads/{file.pk}/files/{asset.pk}/"]').click()
    download = download_info.value
    assert download.suggested_filename == asset.original_name
    with asset.file.open("rb") as stored:
        assert Path(download.path()).read_bytes() == stored.read()

    # and the same order page and download URL without the token, in a fresh browser,
    # are refused
    other = page.context.browser.new_context()
    stranger = other.new_page()
    assert stranger.goto(base + f"/orders/{order.pk}/").status == 404
    assert stranger.goto(base + f"/downloads/{file.pk}/files/{asset.pk}/").status == 404
    other.close()
