import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from catalog.category_tree import ensure_category_tree
from catalog.models import Category, Product
from tests.catalog.factories import category
from tests.e2e.helpers import log_in
from tests.factories import SellerProfileFactory
from tests.images import image_bytes
from tests.mesh_files import binary_stl

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EDIT_URL = re.compile(r"/seller/listings/\d+/edit/$")


def _upload_with_progress(page, *, endpoint_glob, form, field, path):
    """Submit an upload form while the request is held back, so the progress bar can be
    seen while it is in flight; then let it through and wait for the page to reload."""
    held = []
    page.route(endpoint_glob, lambda route: held.append(route))
    form.locator(f'input[name="{field}"]').set_input_files(str(path))
    form.locator('button[type="submit"]').click()

    progress = form.locator("[data-upload-progress]")
    expect(progress).to_be_visible()
    expect(form.locator('button[type="submit"]')).to_be_disabled()
    expect(form.locator("[data-upload-percent]")).to_have_text(re.compile(r"^\d{1,3}%$"))
    for _ in range(100):  # the route callback runs while Playwright waits
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1, "the upload did not go out as one request"
    assert "application/json" in held[0].request.headers.get("accept", "")

    with page.expect_navigation(url=EDIT_URL):
        held[0].continue_()
    page.unroute(endpoint_glob)


def test_a_seller_lists_a_free_file_with_uploads_and_publishes_it(
    live_server, page, screenshot, browser, tmp_path
):
    # given the seeded category tree (an earlier transactional test may have flushed it)
    ensure_category_tree(Category)
    # and a verified seller with a shop, logged in through the login form
    profile = SellerProfileFactory(display_name="Browser Prints")
    base = live_server.url
    log_in(page, base, profile.user.email)

    # when they start a new listing from the shop menu and choose "Digital file"
    page.goto(base + "/")
    page.locator('summary[aria-label="Your shop menu"]').click()
    page.locator(".dropdown__menu").get_by_role("link", name="New listing").click()
    page.get_by_role("link", name=re.compile("Digital file")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New digital file")

    # and save the basics as a draft
    page.fill('input[name="title"]', "Browser Test Planter")
    page.fill(
        'textarea[name="description"]',
        "A small self-watering planter that prints without supports.",
    )
    page.select_option('select[name="category"]', str(category().pk))
    page.fill('input[name="price"]', "0")
    page.select_option('select[name="license"]', "CC_BY")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(EDIT_URL)
    product = Product.objects.get(seller=profile.user)
    assert (product.status, product.price_cents, product.license) == ("DRAFT", 0, "CC_BY")
    edit_url = page.url

    # then the checklist still asks for a picture and a file
    checklist = page.locator("#checklist")
    expect(checklist.locator(".is-todo")).to_have_count(2)

    # when they upload a picture and an STL, each with a progress bar
    picture = tmp_path / "planter.png"
    picture.write_bytes(image_bytes("PNG", (800, 600)))
    image_form = page.locator('form[data-upload][action$="/images/"]')
    image_form.locator('input[name="alt_text"]').fill("The planter on a windowsill")
    _upload_with_progress(
        page,
        endpoint_glob="**/seller/listings/*/images/",
        form=image_form,
        field="image",
        path=picture,
    )
    expect(page.locator(".upload-tile")).to_have_count(1)
    expect(checklist.locator(".is-todo")).to_have_count(1)

    model = tmp_path / "planter.stl"
    model.write_bytes(binary_stl(200))
    _upload_with_progress(
        page,
        endpoint_glob="**/seller/listings/*/files/",
        form=page.locator('form[data-upload][action$="/files/"]'),
        field="file",
        path=model,
    )

    # then the pictures and files are listed and every checklist item is done
    expect(page.locator(".upload-tile")).to_have_count(1)
    expect(page.locator(".files-table tbody tr")).to_have_count(1)
    expect(page.locator(".files-table")).to_contain_text("planter.stl")
    expect(checklist.get_by_role("heading")).to_have_text("Ready to publish")
    expect(checklist.locator(".is-todo")).to_have_count(0)
    expect(checklist.locator(".is-done")).to_have_count(5)
    screenshot("seller-edit-listing")

    # when they publish it
    checklist.get_by_role("button", name="Publish").click()
    page.wait_for_url(EDIT_URL)
    expect(page.locator(".messages")).to_contain_text("is live")
    product.refresh_from_db()
    assert product.status == "PUBLISHED"
    asset = product.assets.get()
    assert (asset.kind, asset.triangle_count, bool(asset.preview)) == ("stl", 200, True)

    # then the public product page shows it, free, with its licence and a 3D preview
    page.locator(".page-header").get_by_role("link", name="View listing").click()
    page.wait_for_url(re.compile(r"/p/browser-test-planter/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Browser Test Planter")
    expect(page.locator(".buy-box")).to_contain_text("Free")
    expect(page.locator(".buy-box")).to_contain_text("Creative Commons Attribution (CC BY 4.0)")
    viewer = page.locator("[data-model-viewer]")
    expect(viewer).to_have_count(1)
    assert viewer.get_attribute("data-src").endswith(".stl")
    screenshot("product-page")

    # and a stranger with their own shop gets a 404 on the edit page
    stranger = SellerProfileFactory()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        other = context.new_page()
        log_in(other, base, stranger.user.email)
        response = other.goto(edit_url)
        assert response.status == 404
        assert reverse("catalog:seller-listing-update", kwargs={"pk": product.pk}) in edit_url
    finally:
        context.close()
