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
    assert _cell(html, "fee") == "$1.25 (10.00%)"
    assert _cell(html, "seller_net") == "$11.25"
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


# --- human words for moderation, and the take-down action ---------------------------
def _reported_review():
    from catalog.models import Review
    from moderation.services import review_report

    product = ProductFactory(title="Self-watering planter", status="PUBLISHED", complete=True)
    author = UserFactory(email="ada@example.com")
    review = Review.objects.create(product=product, author=author, rating=4, body="Lovely.")
    reporter = UserFactory(email="bob@example.com")
    return review, review_report(review=review, reporter=reporter, reason="SPAM")


def test_reviews_and_reports_name_the_product_and_the_people(staff_client):
    review, report = _reported_review()
    assert str(review) == "4★ review of “Self-watering planter” by ada@example.com"
    assert str(report) == (
        "Spam or advertising report by bob@example.com on the 4★ review of "
        "“Self-watering planter” by ada@example.com (Open)"
    )
    listing = staff_client.get("/admin/moderation/report/").content.decode()
    assert '<td class="field-product">Self-watering planter</td>' in listing
    assert "4★ by ada@example.com: “Lovely.”" in listing
    assert "bob@example.com" in listing and " on 1" not in listing
    reviews = staff_client.get("/admin/catalog/review/").content.decode()
    assert "Self-watering planter" in reviews and "ada@example.com" in reviews
    assert '<td class="field-stars">4★</td>' in reviews


def _take_down(staff_client, products, **extra):
    return staff_client.post(
        "/admin/catalog/product/",
        {"action": "take_down", "_selected_action": [p.pk for p in products], **extra},
    )


def test_staff_take_listings_down_in_bulk_with_a_required_reason(staff_client):
    from catalog.models import Product

    # given two live listings
    first, second = (ProductFactory(status="PUBLISHED", complete=True) for _ in range(2))
    # when staff pick the action: a confirmation page asks for the reason
    page = _take_down(staff_client, [first, second])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Take these listings down?" in html and f"“{first.title}”" in html
    assert 'name="reason"' in html
    # when they confirm without a reason: refused, nothing changes
    refused = _take_down(staff_client, [first, second], apply="1", reason="  ")
    assert refused.status_code == 400 and "A reason is required." in refused.content.decode()
    assert not Product.objects.filter(is_taken_down=True).exists()
    # when they confirm with one: both are down, with the reason and the time
    done = _take_down(staff_client, [first, second], apply="1", reason="Copies a brand's logo")
    assert done.status_code == 302
    for product in (first, second):
        product.refresh_from_db()
        assert product.is_taken_down and product.taken_down_at is not None
        assert product.takedown_reason == "Copies a brand's logo"
        assert product.status == "PUBLISHED" and not product.is_public
    # and the seller reads the reason on their listing
    staff_client.force_login(first.seller)
    SellerProfileFactory(user=first.seller)
    edit = staff_client.get(f"/seller/listings/{first.pk}/edit/").content.decode()
    assert "Taken down by staff: Copies a brand&#x27;s logo" in edit


def test_the_take_down_service_needs_a_reason():
    from catalog.services import product_take_down
    from marketplace.exceptions import ApplicationError

    product = ProductFactory(status="PUBLISHED", complete=True)
    with pytest.raises(ApplicationError, match="Give a reason"):
        product_take_down(product=product, reason=" \n ")
    product.refresh_from_db()
    assert not product.is_taken_down
    down = product_take_down(product=product, reason="First")
    again = product_take_down(product=product, reason="Second")
    assert again.taken_down_at == down.taken_down_at and again.takedown_reason == "Second"
