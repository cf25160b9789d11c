"""Whole journeys, one per person, in headless Chromium: what each sees at every step,
with a screenshot per step (in E2E_SCREENSHOT_DIR, else pytest's temporary folder).

Each journey is a list of step functions taking a `Journey` (the page, the live server,
a screenshot helper and what earlier steps found). To extend a journey when a
capability lands (ask a question, report, suspend, analytics...), write one more
`step_…` function here and call it in the journey's test at the point it belongs.
Staff sign in through `log_in_staff` only, so a two-factor step is added in one place.
"""

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from playwright.sync_api import expect

from catalog.category_tree import ensure_category_tree
from catalog.models import Category, Favorite, Product, Review
from orders.models import Order
from payments.models import SellerBalanceEntry
from refunds.models import RefundRequest
from tests.catalog.factories import ProductFactory, category
from tests.e2e.helpers import log_in
from tests.factories import PASSWORD, SellerProfileFactory, UserFactory
from tests.images import image_bytes
from tests.mesh_files import binary_stl

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EDIT_URL = re.compile(r"/seller/listings/\d+/edit/$")


@dataclass
class Journey:
    page: object
    base: str
    folder: Path
    name: str
    found: dict = field(default_factory=dict)

    def shot(self, step: str) -> Path:
        path = (
            self.folder
            / f"{self.name}-{len(list(self.folder.glob(self.name + '-*'))) + 1:02d}-{step}.png"
        )
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 5_000, f"screenshot {path} looks empty"
        return path

    def fresh_page(self):
        """A second browser (another person, or the same person on another device)."""
        context = self.page.context.browser.new_context(viewport={"width": 1280, "height": 900})
        return context.new_page()


@pytest.fixture
def journey(page, live_server, tmp_path_factory, request):
    folder = Path(os.environ.get("E2E_SCREENSHOT_DIR") or tmp_path_factory.mktemp("journeys"))
    folder.mkdir(parents=True, exist_ok=True)
    ensure_category_tree(Category)  # an earlier transactional test may have flushed it
    name = request.node.name.removeprefix("test_").split("_")[0]
    return Journey(page=page, base=live_server.url, folder=folder, name=name)


def log_in_staff(page, base: str, user) -> None:
    """Staff sign in here only (when staff need two-factor, complete it here)."""
    log_in(page, base, user.email)


def _shop(name="Fernwood Prints"):
    profile = SellerProfileFactory(display_name=name)
    listing = dict(seller=profile.user, status="PUBLISHED", complete=True, seller_ready=True)
    return profile, listing


# ------------------------------------------------------------------------------
# Buyer steps
# ------------------------------------------------------------------------------
def step_sign_up_and_verify(j: Journey, email: str) -> None:
    page = j.page
    page.goto(j.base + "/accounts/signup/")
    form = page.locator('form[action="/accounts/signup/"]')
    form.locator('input[name="email"]').fill(email)
    form.locator('input[name="password1"]').fill(PASSWORD)
    form.locator('input[name="password2"]').fill(PASSWORD)
    form.locator('input[name="accept_terms"]').check()
    form.locator('button[type="submit"]').click()
    page.wait_for_url(re.compile(r"/accounts/confirm-email/$"))
    expect(page.locator("main")).to_contain_text(re.compile("verify", re.I))
    j.shot("verify-your-email")
    # the confirmation email in the outbox (the test email backend); its link says https
    sent = [m for m in mail.outbox if m.to == [email]]
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", sent[-1].body)
    page.goto(j.base + link.group(1))
    page.locator("main form").last.locator('button[type="submit"]').click()
    page.wait_for_load_state()
    expect(page.locator("body")).to_contain_text(email)
    j.shot("verified-and-signed-in")


def step_search_with_a_typo(j: Journey, *, typo: str, exact: str, expect_titles: list[str]):
    """PostgreSQL's trigram matching forgives the typo; SQLite matches words exactly."""
    page = j.page
    query = typo if connection.vendor == "postgresql" else exact
    page.goto(j.base + "/")
    page.locator("#site-search").fill(query)
    page.locator("#site-search").press("Enter")
    page.wait_for_url(re.compile(r"/search/\?"))
    titles = page.locator(".product-grid .product-card__title").all_inner_texts()
    assert sorted(t.strip() for t in titles) == sorted(expect_titles)
    j.shot("search-results")


def step_filter_files_only(j: Journey, *, expect_titles: list[str]) -> None:
    page = j.page
    filters = page.locator('aside[aria-label="Filters"] form')
    filters.locator('select[name="kind"]').select_option("FILE")
    filters.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"kind=FILE"))
    titles = page.locator(".product-grid .product-card__title").all_inner_texts()
    assert sorted(t.strip() for t in titles) == sorted(expect_titles)
    j.shot("filtered")


def step_favorite(j: Journey, product: Product, user) -> None:
    page = j.page
    page.goto(j.base + product.get_absolute_url())
    button = page.locator(f"#save-buttons-{product.pk} form").first.locator("button")
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    button = page.locator(f"#save-buttons-{product.pk} form").first.locator("button")
    expect(button).to_have_attribute("aria-pressed", "true")
    assert Favorite.objects.filter(user=user, product=product).exists()
    j.shot("favorited")


def step_buy_through_the_simulator(
    j: Journey, products: list[Product], *, email: str | None = None, address: bool = False
) -> Order:
    """Add to cart, check out (a guest gives `email`), pay on the simulator's test page;
    lands on the order page, paid."""
    page = j.page
    for product in products:
        page.goto(j.base + product.get_absolute_url())
        page.locator('form[action="/cart/add/"] button[type="submit"]').first.click()
        page.wait_for_load_state()
    if address:
        page.goto(j.base + "/cart/")
        page.locator('select[name="country"]').select_option("US")
        page.locator('form[action="/cart/ship-to/"] button[type="submit"]').click()
        page.wait_for_load_state()
    page.goto(j.base + "/checkout/")
    if email:  # a guest accepts the terms here (an account did when it signed up)
        page.locator('input[name="email"]').fill(email)
        page.locator('input[name="accept_terms"]').check()
    page.locator('main form button[type="submit"]').click()
    page.wait_for_url(re.compile(r"/payments/simulator/checkout/"))
    expect(page.locator("body")).to_contain_text(re.compile("test mode", re.I))
    if address:
        page.locator('input[name="name"]').fill("Gia Guest")
        page.locator('input[name="line1"]').fill("1 Main St")
        page.locator('input[name="city"]').fill("Springfield")
        page.locator('input[name="postal_code"]').fill("62701")
    j.shot("simulator-checkout")
    page.locator('button[value="pay"]').click()
    page.wait_for_url(re.compile(r"/orders/\d+/"))
    expect(page.locator("main")).to_contain_text("Paid")
    order = Order.objects.get(pk=int(re.search(r"/orders/(\d+)/", page.url).group(1)))
    assert order.status == "PAID"
    j.found["order"] = order
    j.shot("order-paid")
    return order


def step_download(j: Journey, product: Product) -> None:
    """From the order page on screen: the file saved is the seller's bytes."""
    page = j.page
    asset = product.assets.get()
    with page.expect_download() as info:
        page.locator(f'a[href^="/downloads/{product.pk}/files/{asset.pk}/"]').click()
    download = info.value
    assert download.suggested_filename == asset.original_name
    with asset.file.open("rb") as stored:
        assert Path(download.path()).read_bytes() == stored.read()


def step_review(j: Journey, product: Product, *, stars: int, text: str) -> None:
    page = j.page
    page.goto(j.base + product.get_absolute_url())
    page.locator("#reviews").get_by_role("link", name="Write a review").click()
    form = page.locator("form.review-form")
    form.locator(f'input[name="rating"][value="{stars}"]').check()
    form.locator('textarea[name="body"]').fill(text)
    form.get_by_role("button", name="Post your review").click()
    page.wait_for_url(re.compile(re.escape(product.get_absolute_url()) + "#reviews$"))
    review = page.locator("#reviews .review")
    expect(review.locator(".review__body")).to_have_text(text)
    expect(review.locator(".badge")).to_have_text("Verified purchase")
    j.shot("reviewed")


# ------------------------------------------------------------------------------
# Guest steps
# ------------------------------------------------------------------------------
def step_open_the_emailed_order_link(j: Journey, email: str, order: Order):
    """In a fresh browser (no session): the receipt's link opens the order."""
    receipt = next(m for m in mail.outbox if m.to == [email] and f"/orders/{order.pk}/" in m.body)
    path = re.search(r"https?://[^/\s]+(/orders/\d+/\?t=[\w-]+)", receipt.body).group(1)
    other = j.fresh_page()
    assert other.goto(j.base + f"/orders/{order.pk}/").status == 404  # no token, no order
    other.goto(j.base + path)
    expect(other.locator("main")).to_contain_text("Paid")
    j.page, previous = other, j.page
    j.shot("order-from-email")
    previous.context.close()


# ------------------------------------------------------------------------------
# Seller steps
# ------------------------------------------------------------------------------
def step_become_a_seller(j: Journey, shop_name: str) -> None:
    page = j.page
    page.goto(j.base + "/seller/shop/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Open your shop")
    page.locator('input[name="display_name"]').fill(shop_name)
    page.locator('input[name="accept_agreement"]').check()
    page.get_by_role("button", name="Open my shop").click()
    page.wait_for_load_state()
    assert "/seller/shop/new/" not in page.url
    j.shot("shop-opened")


def step_onboard_payouts(j: Journey) -> None:
    page = j.page
    page.goto(j.base + "/seller/payouts/")
    page.get_by_role("button", name="Set up payouts with Stripe").click()
    page.wait_for_url(re.compile(r"/payments/simulator/onboarding/"))
    j.shot("simulated-onboarding")
    page.get_by_role("button", name="Complete onboarding (test)").click()
    page.wait_for_url(re.compile(r"/seller/payouts/"))
    expect(page.locator("main")).to_contain_text("Buyers can pay for your listings")
    j.shot("payouts-ready")


def _upload(page, *, action_suffix: str, field_name: str, path: Path, alt: str = "") -> None:
    form = page.locator(f'form[data-upload][action$="{action_suffix}"]')
    if alt:
        form.locator('input[name="alt_text"]').fill(alt)
    form.locator(f'input[name="{field_name}"]').set_input_files(str(path))
    with page.expect_navigation(url=EDIT_URL):
        form.locator('button[type="submit"]').click()


def step_list_a_file_with_an_image_and_publish(j: Journey, tmp: Path, *, title: str) -> Product:
    page = j.page
    page.goto(j.base + "/seller/listings/new/?kind=FILE")
    page.fill('input[name="title"]', title)
    page.fill('textarea[name="description"]', "A vase that prints in spiral mode in one go.")
    page.select_option('select[name="category"]', str(category().pk))
    page.fill('input[name="price"]', "7.50")
    page.select_option('select[name="license"]', "PERSONAL")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(EDIT_URL)
    picture, model = tmp / "vase.png", tmp / "vase.stl"
    picture.write_bytes(image_bytes("PNG", (800, 600)))
    model.write_bytes(binary_stl(120))
    _upload(page, action_suffix="/images/", field_name="image", path=picture, alt="The vase")
    _upload(page, action_suffix="/files/", field_name="file", path=model)
    checklist = page.locator("#checklist")
    expect(checklist.get_by_role("heading")).to_have_text("Ready to publish")
    j.shot("listing-ready")
    checklist.get_by_role("button", name="Publish").click()
    page.wait_for_url(EDIT_URL)
    expect(page.locator(".messages")).to_contain_text("is live")
    product = Product.objects.get(title=title)
    assert product.status == "PUBLISHED"
    j.shot("listing-live")
    return product


def step_a_buyer_buys(j: Journey, products: list[Product], email: str) -> Order:
    """Another person (a guest, in their own browser) buys: the seller's sale."""
    buyer = Journey(page=j.fresh_page(), base=j.base, folder=j.folder, name=f"{j.name}-buyer")
    try:
        return step_buy_through_the_simulator(buyer, products, email=email, address=True)
    finally:
        buyer.page.context.close()


def step_ship_the_printed_line(j: Journey, order: Order, product: Product) -> None:
    page = j.page
    page.goto(j.base + "/seller/sales/")
    expect(page.locator("main")).to_contain_text(product.title)
    page.goto(j.base + f"/seller/sales/orders/{order.pk}/")
    expect(page.locator("main")).to_contain_text("1 Main St")
    page.locator('select[name="carrier"]').select_option(index=1)
    page.locator('input[name="tracking_number"]').fill("1Z999AA10123456784")
    page.get_by_role("button", name="Mark shipped").click()
    page.wait_for_load_state()
    expect(page.locator(".messages")).to_contain_text("marked shipped")
    assert order.items.get(product=product).fulfillment_status == "SHIPPED"
    j.shot("shipped")


def step_read_payouts(j: Journey, seller, order: Order) -> None:
    page = j.page
    page.goto(j.base + "/seller/payouts/ledger/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Payouts")
    rows = SellerBalanceEntry.objects.filter(seller=seller, order=order)
    assert rows.filter(reason="SALE").exists() and rows.filter(reason="TRANSFER").exists()
    expect(page.locator("main table").first).to_contain_text(f"{order.pk}")
    j.shot("payouts-ledger")


# ------------------------------------------------------------------------------
# Staff steps
# ------------------------------------------------------------------------------
def step_refund_with_a_reason(j: Journey, order: Order, product: Product, reason: str) -> None:
    page = j.page
    line = order.items.get(product=product)
    page.goto(j.base + f"/staff/refunds/items/{line.pk}/refund/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(product.title)
    page.locator("main form [name=note]").fill(reason)
    j.shot("refund-confirm")
    page.get_by_role("button", name="Yes, refund").click()
    page.wait_for_load_state()
    refund = RefundRequest.objects.get(order_item=line)
    assert (refund.initiated_by, refund.status) == ("STAFF", "REFUNDED")
    assert refund.approved_amount_cents == line.subtotal_cents + line.shipping_allocated_cents
    assert reason in (refund.decision_note, refund.buyer_note)
    expect(page.locator(".messages")).to_be_visible()
    j.shot("refunded")


def step_reconcile(j: Journey) -> None:
    page = j.page
    page.goto(j.base + "/staff/reconciliation/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Reconciliation")
    expect(page.locator("main")).to_contain_text("No order has drift.")
    call_command("reconcile_ledger")  # raises on any drift
    j.shot("reconciled")


# ------------------------------------------------------------------------------
# Journeys
# ------------------------------------------------------------------------------
def test_buyer_signs_up_finds_saves_buys_downloads_and_reviews(journey):
    # given a shop with two planter files and a printed planter
    _, listing = _shop()
    planter = ProductFactory(title="Self-Watering Planter", price_cents=500, **listing)
    ProductFactory(title="Planter Saucer", price_cents=0, **listing)
    ProductFactory(
        title="Printed Planter Pot",
        physical=True,
        price_cents=1800,
        description="A pot.",
        **listing,
    )
    email = "journey.buyer@example.com"
    # when a visitor becomes a buyer and goes shopping
    step_sign_up_and_verify(journey, email)
    step_search_with_a_typo(
        journey,
        typo="planer",
        exact="planter",
        expect_titles=["Planter Saucer", "Printed Planter Pot", "Self-Watering Planter"],
    )
    step_filter_files_only(journey, expect_titles=["Planter Saucer", "Self-Watering Planter"])
    buyer = type(planter.seller).objects.get(email=email)
    step_favorite(journey, planter, buyer)
    order = step_buy_through_the_simulator(journey, [planter])
    # then the order is theirs, the file downloads and their review is public
    assert (order.buyer, order.total_cents) == (buyer, 500)
    step_download(journey, planter)
    step_review(journey, planter, stars=5, text="Printed overnight; the wick works great.")
    assert Review.objects.get(product=planter).author == buyer


def test_guest_buys_opens_the_emailed_order_and_downloads(journey):
    # given a paid file
    _, listing = _shop("Orbit Files")
    vase = ProductFactory(title="Spiral Vase", price_cents=1250, **listing)
    email = "journey.guest@example.com"
    # when a guest buys it, then opens the receipt's link on another device
    order = step_buy_through_the_simulator(journey, [vase], email=email)
    assert order.buyer is None and order.email == email
    step_open_the_emailed_order_link(journey, email, order)
    # then the file downloads from that page
    step_download(journey, vase)


def test_seller_opens_a_shop_onboards_lists_sells_ships_and_reads_payouts(journey, tmp_path):
    # given a verified member, signed in
    user = UserFactory(name="Sam Seller")
    log_in(journey.page, journey.base, user.email)
    # when they become a seller, set up payouts and list a file with an image
    step_become_a_seller(journey, "Sam's Spirals")
    step_onboard_payouts(journey)
    vase = step_list_a_file_with_an_image_and_publish(journey, tmp_path, title="Journey Vase")
    # and (a printed item of theirs being listed too) a buyer buys both
    printed = ProductFactory(
        seller=user,
        title="Printed Dragon",
        physical=True,
        price_cents=3000,
        status="PUBLISHED",
        complete=True,
    )
    order = step_a_buyer_buys(journey, [vase, printed], "journey.customer@example.com")
    # then they ship the printed line and read what they are owed
    step_ship_the_printed_line(journey, order, printed)
    step_read_payouts(journey, user, order)


def test_staff_refund_with_a_reason_and_reconcile(journey):
    # given a guest's paid order of a printed item
    _, listing = _shop("Maple Prints")
    dragon = ProductFactory(
        title="Painted Dragon", physical=True, price_cents=3000, stock_quantity=3, **listing
    )
    order = step_buy_through_the_simulator(
        journey, [dragon], email="journey.refund@example.com", address=True
    )
    journey.page.context.clear_cookies()
    # when staff refund the line with a reason and open reconciliation
    staff = UserFactory(is_staff=True, name="Sam Staff")
    log_in_staff(journey.page, journey.base, staff)
    step_refund_with_a_reason(journey, order, dragon, "Arrived broken; the seller agreed.")
    # then the books balance
    step_reconcile(journey)
