"""Who sees the address, shipping with tracking, delivery, and cart honesty."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from marketplace.exceptions import ApplicationError
from marketplace.models import SiteConfig
from orders.models import OrderEvent, OrderItem
from orders.services import cart_set_quantity, order_item_mark_shipped
from orders.tracking import tracking_url
from tests.catalog.factories import ProductFactory
from tests.factories import SellerProfileFactory, UserFactory
from tests.orders.factories import TEST_ADDRESS, paid_order

pytestmark = pytest.mark.django_db

STREET = TEST_ADDRESS["line1"]


def _live(seller=None, **kwargs):
    seller = seller or SellerProfileFactory().user
    return ProductFactory(
        seller=seller, status="PUBLISHED", complete=True, seller_ready=True, **kwargs
    )


@pytest.fixture
def two_shop_order():
    """A guest order: a printed item from one shop, a file from another."""
    printed, file = _live(physical=True), _live()
    buyer = UserFactory()
    order = paid_order(printed, file, buyer=buyer, email=buyer.email)
    return order, printed, file, buyer


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("buyer", True),
        ("guest_token", True),
        ("seller", True),
        ("other_seller", False),
        ("staff", True),
        ("anonymous", False),
    ],
)
def test_only_the_selling_seller_the_buyer_and_staff_see_the_address(who, sees, two_shop_order):
    order, printed, file, buyer = two_shop_order
    client = Client()
    order_page = reverse("orders:order-detail", args=[order.pk])
    sale_page = reverse("orders:seller-sale-detail", args=[order.pk])
    slip = reverse("orders:seller-packing-slip", args=[order.pk])
    pages = []
    if who == "buyer":
        client.force_login(buyer)
        pages = [client.get(order_page)]
    elif who == "guest_token":
        pages = [client.get(order_page + "?t=" + order.access_token)]
    elif who == "seller":
        client.force_login(printed.seller)
        pages = [client.get(sale_page), client.get(slip), client.get(order_page)]
    elif who == "other_seller":  # sold the file on the same order
        client.force_login(file.seller)
        pages = [client.get(sale_page), client.get(slip), client.get(order_page)]
    elif who == "staff":
        client.force_login(UserFactory(is_staff=True, is_superuser=True))
        pages = [client.get(f"/admin/orders/order/{order.pk}/change/")]
    else:
        pages = [client.get(order_page), client.get(sale_page), client.get(slip)]
    shown = [STREET in p.content.decode() for p in pages]
    if who == "seller":
        # their sale page and packing slip show it; the buyer's order page is a 404
        assert shown == [True, True, False] and pages[2].status_code == 404
    elif who == "other_seller":
        # their sale page lists only their file, no address; no slip; no order page
        assert shown == [False, False, False]
        assert file.title in pages[0].content.decode()
        assert printed.title not in pages[0].content.decode()
    else:
        assert all(s == sees for s in shown)


def test_shipping_needs_tracking_unless_no_tracking_is_ticked(client):
    product = _live(physical=True)
    item = paid_order(product).items.get()
    client.force_login(product.seller)
    ship = reverse("orders:seller-item-ship", args=[item.pk])
    # no tracking number: refused, nothing changes
    response = client.post(ship, {"carrier": "usps", "tracking_number": ""}, follow=True)
    assert "or tick “Sent without tracking”" in response.content.decode()
    item.refresh_from_db()
    assert (item.fulfillment_status, item.shipped_at) == ("UNFULFILLED", None)
    assert not OrderEvent.objects.filter(kind="SHIPPED").exists()
    assert mail.outbox == [m for m in mail.outbox if "on its way" not in m.subject.lower()]
    # with the box ticked, it ships without a number
    client.post(ship, {"carrier": "other", "carrier_other": "Local courier", "no_tracking": "on"})
    item.refresh_from_db()
    assert (item.fulfillment_status, item.carrier, item.tracking_number) == (
        "SHIPPED",
        "Local courier",
        "",
    )


@pytest.mark.parametrize(
    ("carrier", "number", "url"),
    [
        ("usps", "9400 1000", "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400%201000"),
        ("ups", "1Z999", "https://www.ups.com/track?tracknum=1Z999"),
        ("fedex", "7712", "https://www.fedex.com/fedextrack/?trknbr=7712"),
        (
            "canada_post",
            "7023",
            "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor=7023",
        ),
        (
            "royal_mail",
            "AB1GB",
            "https://www.royalmail.com/track-your-item#/tracking-results/AB1GB",
        ),
        ("Local courier", "123", ""),
        ("ups", "", ""),
    ],
)
def test_tracking_links_for_well_known_carriers(carrier, number, url):
    assert tracking_url(carrier, number) == url


def test_the_buyer_sees_the_tracking_link_and_a_dispatch_estimate(client):
    product = _live(physical=True)
    buyer = UserFactory()
    order = paid_order(product, buyer=buyer, email=buyer.email)
    item = order.items.get()
    client.force_login(buyer)
    page = client.get(reverse("orders:order-detail", args=[order.pk])).content.decode()
    assert "Preparing" in page and "Estimated dispatch by" in page
    order_item_mark_shipped(
        item=item, seller=product.seller, carrier="fedex", tracking_number="7712"
    )
    page = client.get(reverse("orders:order-detail", args=[order.pk])).content.decode()
    assert 'href="https://www.fedex.com/fedextrack/?trknbr=7712"' in page
    listing = client.get(reverse("orders:order-list")).content.decode()
    assert "Shipped" in listing and "trknbr=7712" in listing


def test_the_buyers_timeline_hides_payouts_and_notes(client):
    product = _live(physical=True)
    buyer = UserFactory()
    order = paid_order(product, buyer=buyer, email=buyer.email)
    OrderEvent.objects.create(order=order, kind="TRANSFER_CREATED", message="Seller paid 22.50")
    OrderEvent.objects.create(order=order, kind="NOTE", message="internal remark")
    client.force_login(buyer)
    page = client.get(reverse("orders:order-detail", args=[order.pk])).content.decode()
    assert "Payment received" in page
    assert "Seller paid out" not in page and "internal remark" not in page


def test_shipped_items_are_delivered_automatically_after_n_days(
    django_capture_on_commit_callbacks,
):
    # given auto-delivery after 10 days, one line shipped 11 days ago, one 9 days ago
    SiteConfig.objects.update_or_create(pk=1, defaults={"auto_deliver_after_days": 10})
    old, recent = _live(physical=True), _live(physical=True)
    old_item = paid_order(old).items.get()
    recent_item = paid_order(recent).items.get()
    for item, days in ((old_item, 11), (recent_item, 9)):
        order_item_mark_shipped(item=item, seller=item.seller, carrier="ups", tracking_number="1Z")
        OrderItem.objects.filter(pk=item.pk).update(
            shipped_at=timezone.now() - timedelta(days=days)
        )
    # when the job runs (twice: it is idempotent)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("auto_deliver")
        call_command("auto_deliver")
    # then only the old one is delivered, once, and its buyer told
    old_item.refresh_from_db()
    recent_item.refresh_from_db()
    assert (old_item.fulfillment_status, recent_item.fulfillment_status) == (
        "DELIVERED",
        "SHIPPED",
    )
    assert OrderEvent.objects.filter(kind="DELIVERED").count() == 1
    assert sum(1 for m in mail.outbox if m.subject.startswith("Delivered:")) == 1


# --- cart honesty ------------------------------------------------------------------------
def test_a_quantity_above_stock_is_refused_when_set():
    product = _live(physical=True, stock_quantity=3)
    cart = {str(product.pk): 1}
    with pytest.raises(ApplicationError, match=r"Only 3 in stock; your cart keeps 1\."):
        cart_set_quantity(cart=cart, product_id=product.pk, quantity=4)
    assert cart == {str(product.pk): 1}
    assert cart_set_quantity(cart=cart, product_id=product.pk, quantity=3) == {str(product.pk): 3}


def test_a_file_already_owned_is_not_sold_twice(client):
    file = _live()
    buyer = UserFactory()
    paid_order(file, buyer=buyer, email=buyer.email)
    client.force_login(buyer)
    page = client.get(file.get_absolute_url()).content.decode()
    assert "You already own this file." in page and reverse("downloads:library") in page
    response = client.post(reverse("orders:cart-add"), {"product_id": file.pk}, follow=True)
    assert "You already own this file" in response.content.decode()
    assert client.session.get("cart", {}) == {}


def test_free_items_say_get_it_free_and_a_free_order_never_mentions_a_card(client):
    free = _live(price_cents=0)
    page = client.get(free.get_absolute_url()).content.decode()
    assert "Get it free" in page and "Add to cart" not in page
    client.post(reverse("orders:cart-add"), {"product_id": free.pk})
    checkout = client.get(reverse("payments:checkout")).content.decode()
    assert "Get it free" in checkout
    form = checkout[checkout.index('action="/checkout/"') :]
    form = form[: form.index("</form>")]
    text = form.replace("card card--padded", "").lower()
    assert "card" not in text and "stripe" not in text and "payment" not in text


def test_a_line_that_does_not_ship_to_the_country_is_marked_and_checkout_refuses_it(client):
    from tests.catalog.factories import shipping_profile

    seller = SellerProfileFactory().user
    product = _live(
        seller=seller,
        physical=True,
        shipping_profile=shipping_profile(seller, country="US", first_item_cents=500),
    )
    client.post(reverse("orders:cart-add"), {"product_id": product.pk})
    client.post(reverse("orders:cart-ship-to"), {"country": "FR"})
    page = client.get(reverse("orders:cart")).content.decode()
    assert "Does not ship to France." in page
    response = client.post(
        reverse("payments:checkout"), {"email": "g@example.com", "accept_terms": "on"}
    )
    assert response.status_code == 400
    assert "Does not ship to France." in response.content.decode()
    assert not product.order_items.exists()


def test_only_the_printed_items_seller_gets_the_address_in_the_sale_email(
    two_shop_order, django_capture_on_commit_callbacks
):
    from orders.emails import order_send_paid_emails

    order, printed, file, _ = two_shop_order
    with django_capture_on_commit_callbacks(execute=True):  # emails go after commit
        order_send_paid_emails(order_id=order.pk)
    to_printer = next(m for m in mail.outbox if m.to == [printed.seller.email])
    to_designer = next(m for m in mail.outbox if m.to == [file.seller.email])
    assert STREET in to_printer.body and "Please dispatch by" in to_printer.body
    assert f"/seller/sales/orders/{order.pk}/" in to_printer.body
    assert STREET not in to_designer.body and "Ship to" not in to_designer.body
