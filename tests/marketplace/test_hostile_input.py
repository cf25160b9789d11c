"""Hostile or malformed input anywhere answers with a 4xx or a redirect with a message,
never a 500, and writes nothing. Each case is a real request through the real stack."""

import pytest
from django.test import Client

from catalog.models import Product
from marketplace.models import User
from orders.models import Order
from payments.models import SellerBalanceEntry, StripeEvent
from tests.catalog.factories import ProductFactory
from tests.factories import SellerProfileFactory
from tests.orders.factories import paid_order

pytestmark = pytest.mark.django_db

JUNK = "\x00'\";<script>" + "é" * 300


@pytest.fixture
def seller_client():
    client = Client(raise_request_exception=False)
    client.force_login(SellerProfileFactory().user)
    return client


GETS = [
    "/browse/?min_price=abc&max_price=-5&min_rating=9&page=-1&sort=%27",
    "/browse/?page=99999999999999999999",
    f"/search/?q={JUNK}",
    f"/search/suggest/?q={JUNK}",
    "/c/no-such-category/",
    "/p/no-such-listing/",
    "/orders/1/?t=" + "x" * 5000,
    "/orders/1/?t=%00%00",
    "/downloads/1/files/1/?t=%00abc",
    "/downloads/1/bundle/?t=" + "y" * 5000,
    "/downloads/file/not-a-signature/",
    "/seller/payouts/ledger/?date_from=yesterday&reason=NOPE",
    "/seller/listings/?status=<bad>",
    "/seller/listings/new/?kind=SPACESHIP",
]

POSTS = [
    ("/cart/add/", {"product_id": JUNK, "quantity": "-3"}),
    ("/cart/update/", {"product_id": "abc", "quantity": "lots"}),
    ("/checkout/", {"email": JUNK}),
    (
        "/seller/listings/new/",
        {"kind": "FILE", "title": JUNK * 2, "price": "1e999", "category": "abc"},
    ),
    ("/seller/shop/new/", {"display_name": "", "slug": "UPPER CASE!!"}),
    ("/stripe/webhook/", {"not": "json"}),
    ("/stripe/webhook/connect/", {"not": "json"}),
]


@pytest.mark.parametrize("url", GETS)
def test_malformed_gets_never_500(seller_client, url):
    assert seller_client.get(url).status_code < 500, url


@pytest.mark.parametrize(("url", "data"), POSTS, ids=[u for u, _ in POSTS])
def test_malformed_posts_never_500_and_write_nothing(seller_client, url, data):
    response = seller_client.post(url, data)
    assert response.status_code < 500, (url, response.status_code)
    assert Order.objects.count() == 0
    assert SellerBalanceEntry.objects.count() == 0
    assert StripeEvent.objects.count() == 0
    assert Product.objects.count() == 0


def test_a_review_with_an_impossible_rating_is_refused(seller_client):
    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    # A buyer of the listing, so the rating itself (not the right to review) is refused.
    buyer = seller_client.session["_auth_user_id"]
    paid_order(product, buyer=User.objects.get(pk=buyer), email="buyer@example.com")
    response = seller_client.post(f"/products/{product.pk}/review/", {"rating": "9", "body": JUNK})
    assert response.status_code in (400, 403)
    assert response.status_code == 400
    assert product.reviews.count() == 0
