import pytest
from django.urls import reverse

from catalog.models import Product
from orders.selectors import SESSION_CART_KEY
from tests.catalog.factories import ProductFactory, make_ready

pytestmark = pytest.mark.django_db

ADD = reverse("orders:cart-add")


def _cart(client) -> dict:
    return client.session.get(SESSION_CART_KEY, {})


def test_a_guest_adds_a_buyable_file_once(client):
    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    response = client.post(ADD, {"product_id": product.pk})
    assert response.status_code == 302
    assert _cart(client) == {str(product.pk): 1}
    client.post(ADD, {"product_id": product.pk})
    assert _cart(client) == {str(product.pk): 1}
    page = client.get(response["Location"])
    assert "already in your cart" in page.content.decode()


def test_physical_quantity_is_capped_by_stock(client):
    product = ProductFactory(
        physical=True, status="PUBLISHED", stock_quantity=3, complete=True, seller_ready=True
    )
    client.post(ADD, {"product_id": product.pk, "quantity": 2})
    response = client.post(ADD, {"product_id": product.pk, "quantity": 2}, follow=True)
    assert _cart(client) == {str(product.pk): 2}
    assert "Only 3 in stock; you already have 2 in your cart." in response.content.decode()


REFUSALS = {
    "draft": ({"status": "DRAFT"}, "This listing is not available."),
    "archived": ({"status": "ARCHIVED"}, "This listing is not available."),
    "taken-down": ({"is_taken_down": True}, "This listing is not available."),
    "seller-not-ready": ({"seller_ready": False}, "The seller is not set up to take payments yet."),
    "out-of-stock": ({"physical": True, "stock_quantity": 0}, "Out of stock."),
}


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_a_direct_post_for_something_not_buyable_is_refused_with_the_reason(client, case):
    overrides, message = REFUSALS[case]
    values = {"status": "PUBLISHED", "complete": True, "seller_ready": True, **overrides}
    product = ProductFactory(**values)
    response = client.post(ADD, {"product_id": product.pk}, follow=True)
    assert message in response.content.decode()
    assert _cart(client) == {}


def test_your_own_item_cannot_be_added(client):
    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    client.force_login(product.seller)
    response = client.post(ADD, {"product_id": product.pk}, follow=True)
    assert "This is your own listing." in response.content.decode()
    assert _cart(client) == {}


def test_a_deactivated_sellers_item_cannot_be_added(client):
    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    product.seller.is_active = False
    product.seller.save()
    client.post(ADD, {"product_id": product.pk})
    assert _cart(client) == {}


def test_free_files_need_no_stripe_and_counts_show_in_the_header(client):
    free = ProductFactory(status="PUBLISHED", price_cents=0, complete=True)
    printed = ProductFactory(physical=True, status="PUBLISHED", complete=True)
    make_ready(printed.seller)
    client.post(ADD, {"product_id": free.pk})
    client.post(ADD, {"product_id": printed.pk, "quantity": 2})
    html = client.get("/").content.decode()
    assert 'aria-label="Cart, 3 items"' in html


@pytest.mark.parametrize(
    "data", [{}, {"product_id": "abc"}, {"product_id": 999999}, {"product_id": 1, "quantity": 0}]
)
def test_bad_input_is_a_message_not_a_500(client, data):
    response = client.post(ADD, data)
    assert response.status_code == 302
    assert _cart(client) == {}


def test_the_redirect_never_leaves_the_site(client):
    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    response = client.post(ADD, {"product_id": product.pk, "next": "https://evil.example/"})
    assert response["Location"] == product.get_absolute_url()


def test_get_is_not_allowed(client):
    assert client.get(ADD).status_code == 405
    assert Product.objects.count() == 0


def test_a_get_naming_a_buyable_product_adds_nothing(client):
    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    assert client.get(ADD, {"product_id": product.pk}).status_code == 405
    assert _cart(client) == {}


def test_the_cart_page_groups_lines_by_seller_with_shipping(client):
    maker = ProductFactory(
        physical=True,
        status="PUBLISHED",
        complete=True,
        seller_ready=True,
        shipping_cents=650,
        price_cents=2000,
    )
    file = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True, price_cents=300)
    client.post(ADD, {"product_id": maker.pk, "quantity": 2})
    client.post(ADD, {"product_id": file.pk})
    # before a country is chosen, the cart asks for one and offers no checkout
    html = client.get(reverse("orders:cart")).content.decode()
    assert "Choose where to ship to see shipping and check out." in html
    assert reverse("payments:checkout") not in html
    # once the buyer picks a country, each shop's shipping there is shown
    client.post(reverse("orders:cart-ship-to"), {"country": "US"})
    html = client.get(reverse("orders:cart")).content.decode()
    assert "$40.00" in html  # 2 × $20.00
    assert (
        "Shipping to United States of America: $6.50 (items from this shop ship together)" in html
    )
    assert "Digital delivery: download right after payment." in html
    assert "$43.00" in html and "$49.50" in html  # items; total with shipping


def test_removing_a_line_with_quantity_zero(client):
    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    client.post(ADD, {"product_id": product.pk})
    client.post(reverse("orders:cart-update"), {"product_id": product.pk, "quantity": 0})
    assert _cart(client) == {}


def test_adding_records_an_add_to_cart_event_for_the_guest_session(client):
    from analytics.models import ProductEngagementEvent

    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    client.post(ADD, {"product_id": product.pk}, HTTP_USER_AGENT="Mozilla/5.0 (X11)")
    event = ProductEngagementEvent.objects.get()
    assert (event.product_id, event.kind, event.user) == (product.pk, "ADD_TO_CART", None)
    assert event.session_key == client.session.session_key != ""


def test_a_failing_engagement_log_never_breaks_the_add(client, monkeypatch):
    from django.db import DatabaseError

    from analytics.models import ProductEngagementEvent

    def broken(*args, **kwargs):
        raise DatabaseError("analytics table unavailable")

    monkeypatch.setattr(ProductEngagementEvent.objects, "create", broken)
    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    response = client.post(ADD, {"product_id": product.pk})
    assert response.status_code == 302
    assert _cart(client) == {str(product.pk): 1}


def test_the_guest_cart_is_kept_when_they_log_in(client):
    from tests.factories import PASSWORD, UserFactory

    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    client.post(ADD, {"product_id": product.pk})
    user = UserFactory(email="shopper@example.com")
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk
    assert _cart(client) == {str(product.pk): 1}
