import pytest
from django.core import mail
from django.urls import NoReverseMatch, reverse

from orders.models import Order, OrderItem
from tests.catalog.factories import ProductFactory
from tests.factories import PASSWORD, SellerProfileFactory, UserFactory
from tests.orders.factories import paid_order

pytestmark = pytest.mark.django_db


def _printed(seller=None):
    seller = seller or SellerProfileFactory().user
    return ProductFactory(
        seller=seller, physical=True, status="PUBLISHED", complete=True, seller_ready=True
    )


def test_the_seller_ships_then_the_buyer_confirms_receipt(
    client, django_capture_on_commit_callbacks
):
    # given a paid printed line of a signed-in buyer
    product = _printed()
    buyer = UserFactory()
    order = paid_order(product, buyer=buyer, email=buyer.email)
    item = order.items.get()
    # when the seller ships it with DHL tracking
    client.force_login(product.seller)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("orders:seller-item-ship", args=[item.pk]),
            {"carrier": "dhl", "tracking_number": "JD0123"},
        )
    item.refresh_from_db()
    assert (item.fulfillment_status, item.carrier, item.tracking_number) == (
        "SHIPPED",
        "dhl",
        "JD0123",
    )
    # then the buyer's email carries the carrier's tracking link
    assert mail.outbox[-1].to == [buyer.email]
    assert "tracking-id=JD0123" in mail.outbox[-1].body
    # when the buyer says "I received it"
    client.force_login(buyer)
    client.post(reverse("orders:order-item-received", args=[order.pk, item.pk]))
    item.refresh_from_db()
    assert item.fulfillment_status == "DELIVERED" and item.delivered_at is not None
    assert list(order.events.filter(item=item).values_list("kind", flat=True)) == [
        "SHIPPED",
        "DELIVERED",
    ]


def test_the_seller_cannot_mark_delivered(client):
    # given a shipped line
    product = _printed()
    item = paid_order(product).items.get()
    client.force_login(product.seller)
    client.post(
        reverse("orders:seller-item-ship", args=[item.pk]),
        {"carrier": "ups", "tracking_number": "1Z999"},
    )
    # then there is no seller "deliver" URL, and the buyer's one refuses the seller
    assert client.post(f"/seller/sales/{item.pk}/deliver/").status_code == 404
    with pytest.raises(NoReverseMatch):
        reverse("orders:seller-item-deliver", args=[item.pk])
    response = client.post(reverse("orders:order-item-received", args=[item.order_id, item.pk]))
    assert response.status_code == 404
    assert OrderItem.objects.get(pk=item.pk).fulfillment_status == "SHIPPED"


def test_another_seller_cannot_see_or_fulfil_my_lines(client):
    mine, theirs = _printed(), _printed()
    order = paid_order(mine, theirs)
    their_item = order.items.get(product=theirs)
    client.force_login(mine.seller)
    page = client.get(reverse("orders:seller-sales")).content.decode()
    assert mine.title in page and theirs.title not in page
    response = client.post(reverse("orders:seller-item-ship", args=[their_item.pk]), {})
    assert response.status_code == 404
    assert OrderItem.objects.get(pk=their_item.pk).fulfillment_status == "UNFULFILLED"


def test_guest_order_page_needs_the_token(client):
    product = _printed()
    order = paid_order(product, email="guest@example.com")
    url = reverse("orders:order-detail", args=[order.pk])
    assert client.get(url).status_code == 404
    assert client.get(url + "?t=wrong-token").status_code == 404
    assert client.get(url + "?t=" + order.access_token[:-1]).status_code == 404
    page = client.get(url + "?t=" + order.access_token)
    assert page.status_code == 200 and product.title in page.content.decode()
    # another signed-in user without the token sees nothing either
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404


def test_a_guest_order_joins_the_account_that_verifies_its_email(
    client, django_capture_on_commit_callbacks
):
    import re

    order = paid_order(_printed(), email="later@example.com")
    with django_capture_on_commit_callbacks(execute=True):  # emails go after commit
        client.post(
            reverse("account_signup"),
            {
                "email": "later@example.com",
                "password1": PASSWORD,
                "password2": PASSWORD,
                "accept_terms": "on",
            },
        )
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", mail.outbox[-1].body)
    client.post(link.group(1))
    order.refresh_from_db()
    assert order.buyer is not None and order.buyer.email == "later@example.com"
    assert client.get(reverse("orders:order-detail", args=[order.pk])).status_code == 200
    assert f"#{order.pk}" in client.get(reverse("orders:order-list")).content.decode()


def test_the_sales_page_offers_only_the_step_the_services_allow(client):
    # given a paid printed line, and the same seller's line on an order whose payment failed
    product = _printed()
    item = paid_order(product).items.get()
    failed = paid_order(product)
    Order.objects.filter(pk=failed.pk).update(status=Order.Status.FAILED)
    client.force_login(product.seller)
    sales = reverse("orders:seller-sales")
    sale = reverse("orders:seller-sale-detail", args=[item.order_id])
    ship = reverse("orders:seller-item-ship", args=[item.pk])
    # then only the paid line can be shipped, and nothing can be delivered by the seller
    page = client.get(sales).content.decode()
    assert page.count(">Ship</a>") == 1 and sale in page
    assert "Mark delivered" not in page
    assert ship in client.get(sale).content.decode()
    # once shipped, nothing more is offered to the seller
    client.post(ship, {"carrier": "dhl", "tracking_number": "1"})
    page = client.get(sales).content.decode()
    assert ">Ship</a>" not in page and "Mark delivered" not in page
    assert "Mark shipped" not in client.get(sale).content.decode()


def test_a_refunded_line_cannot_be_confirmed_received_nor_auto_delivered(client):
    from datetime import timedelta

    from django.utils import timezone

    from orders.services import order_items_auto_deliver

    # given a shipped line that was then refunded in full, long ago
    product = _printed()
    order = paid_order(product, buyer=(buyer := UserFactory()))
    item = order.items.get()
    OrderItem.objects.filter(pk=item.pk).update(
        fulfillment_status="SHIPPED",
        shipped_at=timezone.now() - timedelta(days=90),
        refunded_cents=item.total_cents,
        refunded_at=timezone.now(),
    )
    # when the buyer says "I received it", and the auto-delivery job runs
    client.force_login(buyer)
    client.post(reverse("orders:order-item-received", args=[order.pk, item.pk]))
    delivered = order_items_auto_deliver()
    # then the refunded line stays as it was
    assert delivered == 0
    assert OrderItem.objects.get(pk=item.pk).fulfillment_status == "SHIPPED"


def test_a_pending_checkout_cannot_be_put_back_in_the_cart():
    from marketplace.exceptions import ApplicationError
    from orders.services import cart_restore_from_order, order_create_from_cart

    product = _printed()
    order = order_create_from_cart(
        cart={str(product.pk): 1}, buyer=None, email="g@example.com", ship_to_country="US"
    )
    assert order.status == "PENDING"  # its stock is still reserved
    with pytest.raises(ApplicationError, match="cancelled, expired or failed"):
        cart_restore_from_order(cart={}, order=order)
