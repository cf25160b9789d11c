import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from playwright.sync_api import expect

from catalog.category_tree import ensure_category_tree
from catalog.models import Category, Favorite, Review, ReviewReply
from tests.catalog.factories import ProductFactory
from tests.e2e.helpers import log_in
from tests.factories import SellerProfileFactory, UserFactory
from tests.orders.factories import paid_order

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REVIEW = "Printed it in PETG overnight; the wick keeps my basil happy for a week."
REPLY = "Thank you! A cotton wick works even better than the printed one."


def _log_out(page):
    page.locator('summary[aria-label^="Account menu"]').click()
    page.get_by_role("button", name="Log out").click()
    expect(page.locator('summary[aria-label^="Account menu"]')).to_have_count(0)


def _result_titles(page) -> list[str]:
    return [t.strip() for t in page.locator(".product-grid .product-card__title").all_inner_texts()]


def test_a_shopper_searches_with_a_typo_filters_sorts_saves_reviews_and_sees_the_reply(
    live_server, page, screenshot
):
    # given the seeded category tree (an earlier transactional test may have flushed it)
    ensure_category_tree(Category)
    # and one shop with two planter files, a printed planter and an unrelated clip
    shop = SellerProfileFactory(display_name="Fernwood Prints")
    listing = dict(seller=shop.user, status="PUBLISHED", complete=True, seller_ready=True)
    planter = ProductFactory(title="Self-Watering Planter", price_cents=500, **listing)
    saucer = ProductFactory(
        title="Planter Saucer",
        price_cents=0,
        description="A drip tray that catches the water under a pot.",
        **listing,
    )
    ProductFactory(
        title="Printed Planter Pot",
        physical=True,
        price_cents=1800,
        description="A finished pot, printed in matte PLA and shipped to you.",
        **listing,
    )
    ProductFactory(
        title="Cable Clip",
        physical=True,
        price_cents=1200,
        description="Keeps charging cables tidy along the edge of a desk.",
        **listing,
    )
    # and a buyer with a paid order line for the self-watering planter
    buyer = UserFactory(name="Robin Gardener")
    paid_order(planter, buyer=buyer, email=buyer.email)
    base = live_server.url

    # when the buyer logs in and searches from the header's search box (a typo where
    # PostgreSQL's trigram matching forgives it; SQLite matches words exactly)
    query = "planer" if connection.vendor == "postgresql" else "planter"
    log_in(page, base, buyer.email)
    page.goto(base + "/")
    page.locator("#site-search").fill(query)
    page.locator("#site-search").press("Enter")
    page.wait_for_url(re.compile(r"/search/\?"))

    # then every planter is found, and the clip is not
    assert parse_qs(urlsplit(page.url).query)["q"] == [query]
    expect(page.locator(".product-grid .product-card")).to_have_count(3)
    assert sorted(_result_titles(page)) == [
        "Planter Saucer",
        "Printed Planter Pot",
        "Self-Watering Planter",
    ]
    expect(page.locator("main")).not_to_contain_text("Cable Clip")
    expect(page.locator("[data-result-count]")).to_contain_text("3 listings")
    screenshot("discovery-search-results")

    # when they keep digital files only, cheapest first, through the filter form
    filters = page.locator('aside[aria-label="Filters"] form')
    filters.locator('select[name="kind"]').select_option("FILE")
    filters.locator('select[name="sort"]').select_option("price_asc")
    filters.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"sort=price_asc"))

    # then the URL carries the query, filter and sort (shareable), and the order follows
    params = parse_qs(urlsplit(page.url).query)
    assert (params["q"], params["kind"], params["sort"]) == ([query], ["FILE"], ["price_asc"])
    expect(page.locator(".product-grid .product-card")).to_have_count(2)
    assert _result_titles(page) == ["Planter Saucer", "Self-Watering Planter"]
    prices = page.locator(".product-grid .product-card__price").all_inner_texts()
    assert [p.strip() for p in prices] == ["Free", "$5.00"]
    expect(filters.locator('select[name="kind"]')).to_have_value("FILE")
    expect(filters.locator('select[name="sort"]')).to_have_value("price_asc")
    screenshot("discovery-filtered-sorted")

    # and the same URL opened afresh gives the same page
    shared = page.url
    page.goto(shared)
    assert _result_titles(page) == ["Planter Saucer", "Self-Watering Planter"]

    # when they open the self-watering planter and press Favorite
    page.get_by_role("link", name="Self-Watering Planter", exact=True).click()
    page.wait_for_url(re.compile(re.escape(planter.get_absolute_url()) + r"(\?src=[^#]*)?$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Self-Watering Planter")
    page.evaluate("window.__samePage = true")  # gone if the page reloads
    favorite = page.locator(f"#save-buttons-{planter.pk} form").first.locator("button")
    expect(favorite).to_have_attribute("aria-pressed", "false")
    with page.expect_response(
        lambda r: r.url.endswith(f"/products/{planter.pk}/favorite/") and r.request.method == "POST"
    ) as toggled:
        favorite.click()
    assert toggled.value.request.headers.get("hx-request") == "true"
    assert toggled.value.status == 200

    # then htmx swaps the buttons in place: pressed, relabelled, no page load
    favorite = page.locator(f"#save-buttons-{planter.pk} form").first.locator("button")
    expect(favorite).to_have_attribute("aria-pressed", "true")
    expect(favorite).to_contain_text("Favorited")
    assert page.evaluate("window.__samePage === true")
    assert Favorite.objects.filter(user=buyer, product=planter).exists()
    screenshot("discovery-favorited")

    # and the Saved page, reached from the account menu, lists it under Favorites
    page.locator('summary[aria-label^="Account menu"]').click()
    page.locator(".dropdown__menu").get_by_role("link", name="Saved").click()
    page.wait_for_url(re.compile(r"/saved/$"))
    favorites = page.locator("#favorites")
    expect(favorites.locator(".product-card__title")).to_have_text(["Self-Watering Planter"])
    expect(page.locator("#wishlist .product-card")).to_have_count(0)
    assert saucer.title not in favorites.inner_text()

    # when, back on the listing (still shown as a favorite), they write a four-star review
    page.goto(base + planter.get_absolute_url())
    favorite = page.locator(f"#save-buttons-{planter.pk} form").first.locator("button")
    expect(favorite).to_have_attribute("aria-pressed", "true")
    page.locator("#reviews").get_by_role("link", name="Write a review").click()
    page.wait_for_url(re.compile(rf"/products/{planter.pk}/review/$"))
    form = page.locator("form.review-form")
    form.locator('input[name="rating"][value="4"]').check()
    form.locator('textarea[name="body"]').fill(REVIEW)
    form.get_by_role("button", name="Post your review").click()
    page.wait_for_url(re.compile(re.escape(planter.get_absolute_url()) + "#reviews$"))

    # then it is on the listing with the verified-purchase mark, and the rating shows
    expect(page.locator(".messages")).to_contain_text("your review is live")
    review = page.locator("#reviews .review")
    expect(review).to_have_count(1)
    expect(review.locator(".review__body")).to_have_text(REVIEW)
    expect(review.locator(".badge")).to_have_text("Verified purchase")
    expect(review.locator(".stars")).to_have_attribute("aria-label", "4 out of 5 stars")
    expect(page.locator(".reviews__average")).to_have_text("4.0")
    expect(page.locator(".product-summary__rating")).to_contain_text("(1 review)")
    saved = Review.objects.get(product=planter)
    assert (saved.author, saved.rating, saved.is_verified_purchase) == (buyer, 4, True)
    screenshot("discovery-review-posted")

    # when the buyer logs out and the seller logs in and replies publicly
    _log_out(page)
    log_in(page, base, shop.user.email)
    page.goto(base + planter.get_absolute_url())
    review = page.locator(f"#review-{saved.pk}")
    review.locator("summary", has_text="Reply publicly").click()
    review.locator('textarea[name="body"]').fill(REPLY)
    review.get_by_role("button", name="Post reply").click()
    page.wait_for_url(re.compile(re.escape(planter.get_absolute_url()) + f"#review-{saved.pk}$"))

    # then the reply is public under the review
    expect(page.locator(".messages")).to_contain_text("Your reply is public.")
    expect(page.locator(f"#review-{saved.pk} .review__reply")).to_contain_text(REPLY)
    assert ReviewReply.objects.get(review=saved).body == REPLY

    # and an anonymous visitor sees the review, its mark, the rating and the reply
    _log_out(page)
    page.goto(base + planter.get_absolute_url())
    expect(page.locator('summary[aria-label^="Account menu"]')).to_have_count(0)
    review = page.locator(f"#review-{saved.pk}")
    expect(review.locator(".review__body").first).to_have_text(REVIEW)
    expect(review.locator(".badge")).to_have_text("Verified purchase")
    reply = review.locator(".review__reply")
    expect(reply).to_contain_text("Reply from Fernwood Prints")
    expect(reply).to_contain_text(REPLY)
    expect(page.locator(".reviews__average")).to_have_text("4.0")
    expect(review.locator(".review__actions")).to_have_count(0)
    screenshot("discovery-anonymous-review-and-reply")
