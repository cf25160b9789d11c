import threading

import pytest
from django.db import connection, transaction
from PIL import Image

from catalog import services
from catalog.markdown import render_markdown
from catalog.models import DigitalAsset, Product, ProductSlugHistory
from marketplace.exceptions import ApplicationError
from marketplace.models import SiteConfig
from tests.catalog.factories import (
    DigitalAssetFactory,
    ProductFactory,
    ProductImageFactory,
    category,
    make_ready,
    shipping_profile,
)
from tests.factories import SellerProfileFactory, UserFactory
from tests.images import image_bytes, jpeg_with_gps, upload
from tests.mesh_files import obj_text

pytestmark = pytest.mark.django_db


# --- publish checklist -------------------------------------------------------------
def test_a_bare_file_draft_lists_everything_it_still_needs():
    product = ProductFactory(description="", license="", price_cents=500)
    checklist = services.product_publish_checklist(product)
    assert checklist.ok is False
    assert checklist.missing == [
        "Write a description (at least 20 characters)",
        "Add at least one image",
        "Upload at least one file",
        "Choose a licence",
        "Connect Stripe to sell paid items",
    ]


def test_a_free_file_does_not_need_stripe():
    product = ProductFactory(price_cents=0, complete=True)
    assert services.product_publish_checklist(product).missing == []


def test_a_complete_paid_file_of_a_ready_seller_passes():
    product = ProductFactory(complete=True, seller_ready=True)
    checklist = services.product_publish_checklist(product)
    assert (checklist.ok, checklist.missing) == (True, [])


def test_a_physical_draft_needs_a_shipping_profile_stock_and_stripe():
    # given a printed draft without a shipping profile, nothing in stock, seller not ready
    product = ProductFactory(physical=True, complete=True, stock_quantity=0)
    product.shipping_profile = None
    # then the checklist names each missing step
    assert services.product_publish_checklist(product).missing == [
        "Choose a shipping profile",
        "Have at least one in stock",
        "Connect Stripe to sell paid items",
    ]
    # when all three are fixed, it passes
    make_ready(product.seller)
    product.shipping_profile = shipping_profile(product.seller, origin="GB")
    product.stock_quantity = 1
    assert services.product_publish_checklist(product).ok


def test_removed_files_do_not_count_for_the_checklist():
    product = ProductFactory(price_cents=0, complete=True)
    DigitalAsset.objects.filter(product=product).update(removed_at="2026-01-01T00:00Z")
    assert services.product_publish_checklist(product).missing == ["Upload at least one file"]


# --- publishing ------------------------------------------------------------------------
def test_publishing_an_incomplete_listing_is_refused_and_changes_nothing():
    product = ProductFactory(complete=True)  # paid, seller not ready
    with pytest.raises(ApplicationError, match="Connect Stripe to sell paid items"):
        services.product_publish(product=product)
    product.refresh_from_db()
    assert (product.status, product.published_at) == (Product.Status.DRAFT, None)


def test_publishing_a_complete_listing_sets_status_and_time_once():
    product = ProductFactory(complete=True, seller_ready=True)
    services.product_publish(product=product)
    product.refresh_from_db()
    first = product.published_at
    assert product.status == Product.Status.PUBLISHED and first is not None
    services.product_archive(product=product)
    services.product_publish(product=product)
    product.refresh_from_db()
    assert product.published_at == first


def test_the_free_listing_cap_is_enforced_on_publish():
    # given a cap of 2 and a seller with two free files live
    SiteConfig.objects.update_or_create(pk=1, defaults={"free_listing_cap": 2})
    seller = UserFactory()
    for _ in range(2):
        services.product_publish(
            product=ProductFactory(seller=seller, price_cents=0, complete=True)
        )
    third = ProductFactory(seller=seller, price_cents=0, complete=True)
    # when they publish a third
    with pytest.raises(ApplicationError, match="the most allowed is 2"):
        services.product_publish(product=third)
    # then it stays a draft; a paid listing is not capped; archiving frees a slot
    assert Product.objects.get(pk=third.pk).status == Product.Status.DRAFT
    make_ready(seller)
    services.product_publish(product=ProductFactory(seller=seller, complete=True))
    live_free = Product.objects.filter(seller=seller, price_cents=0, status="PUBLISHED")
    services.product_archive(product=live_free.first())
    services.product_publish(product=third)
    assert Product.objects.get(pk=third.pk).status == Product.Status.PUBLISHED


def _set_free_cap(cap: int) -> None:
    from django.core.cache import cache

    SiteConfig.objects.update_or_create(pk=1, defaults={"free_listing_cap": cap})
    cache.clear()  # site_config_get reads through the cache


def _seller_at_the_free_cap(cap: int = 1):
    """A Stripe-ready seller with a shop, `cap` free files live and the cap at `cap`."""
    _set_free_cap(cap)
    seller = UserFactory()
    SellerProfileFactory(user=seller)
    make_ready(seller)
    for _ in range(cap):
        services.product_publish(
            product=ProductFactory(seller=seller, price_cents=0, complete=True)
        )
    return seller


def test_a_published_paid_file_cannot_be_edited_to_free_past_the_cap():
    # given a seller at the cap with a published paid file
    seller = _seller_at_the_free_cap()
    paid = services.product_publish(product=ProductFactory(seller=seller, complete=True))
    # when they edit it to price 0 (and a new title in the same save)
    with pytest.raises(ApplicationError, match="the most allowed is 1, so you cannot make"):
        services.product_update(product=paid, price_cents=0, title="Now free")
    # then nothing of that edit is saved
    paid.refresh_from_db()
    assert (paid.price_cents, paid.title, paid.status) == (500, paid.title, "PUBLISHED")
    assert paid.title != "Now free"


def test_editing_to_free_is_fine_under_the_cap_and_on_a_draft():
    seller = _seller_at_the_free_cap()
    # a draft may become free: the cap is checked when it is published
    draft = ProductFactory(seller=seller, complete=True)
    assert services.product_update(product=draft, price_cents=0).price_cents == 0
    with pytest.raises(ApplicationError, match="the most allowed is 1"):
        services.product_publish(product=draft)
    # an already-free listing keeps being editable even once the cap was lowered
    _set_free_cap(0)
    live_free = Product.objects.get(seller=seller, status="PUBLISHED")
    assert services.product_update(product=live_free, title="Renamed").title == "Renamed"
    # under the cap, a published paid file may become free
    _set_free_cap(5)
    paid = services.product_publish(product=ProductFactory(seller=seller, complete=True))
    assert services.product_update(product=paid, price_cents=0).price_cents == 0


def test_the_seller_edit_form_shows_the_cap_refusal_and_saves_nothing(client):
    seller = _seller_at_the_free_cap()
    paid = services.product_publish(product=ProductFactory(seller=seller, complete=True))
    client.force_login(seller)
    from catalog.forms import ListingForm

    data = {k: ("" if v is None else v) for k, v in ListingForm.initial_from(paid).items()}
    data.update({"category": paid.category_id, "supports_needed": "unknown", "price": "0"})
    response = client.post(f"/seller/listings/{paid.pk}/edit/", data, follow=True)
    assert "the most allowed is 1" in response.content.decode()
    paid.refresh_from_db()
    assert paid.price_cents == 500


def test_a_duplicate_of_a_free_listing_is_a_draft_and_its_publish_respects_the_cap():
    seller = _seller_at_the_free_cap()
    live_free = Product.objects.get(seller=seller, status="PUBLISHED")
    copy = services.product_duplicate(product=live_free)
    assert (copy.status, copy.price_cents) == ("DRAFT", 0)
    with pytest.raises(ApplicationError, match="the most allowed is 1, so you cannot publish"):
        services.product_publish(product=copy)
    assert Product.objects.get(pk=copy.pk).status == "DRAFT"


def test_republishing_an_archived_free_listing_respects_the_cap():
    # given a free listing archived, and another free one published in its slot
    seller = _seller_at_the_free_cap()
    first = Product.objects.get(seller=seller, status="PUBLISHED")
    services.product_archive(product=first)
    services.product_publish(product=ProductFactory(seller=seller, price_cents=0, complete=True))
    # when the archived one is republished, it is refused and stays archived
    with pytest.raises(ApplicationError, match="the most allowed is 1"):
        services.product_publish(product=first)
    assert Product.objects.get(pk=first.pk).status == "ARCHIVED"
    # as is unpublish-then-publish
    services.product_unpublish(product=first)
    with pytest.raises(ApplicationError, match="the most allowed is 1"):
        services.product_publish(product=first)


def test_staff_cannot_make_a_listing_free_or_live_in_the_admin(admin_client):
    # the admin's product form has no price, kind or status: those go through services
    from django.contrib import admin as django_admin

    from catalog.admin import ProductAdmin

    product = ProductFactory(complete=True)
    model_admin = ProductAdmin(Product, django_admin.site)
    request = admin_client.get("/admin/").wsgi_request
    fields = model_admin.get_form(request, product).base_fields
    assert not {"price_cents", "status", "kind", "seller"} & set(fields)
    assert admin_client.get(f"/admin/catalog/product/{product.pk}/change/").status_code == 200


def test_a_taken_down_listing_cannot_be_published():
    product = ProductFactory(complete=True, seller_ready=True, is_taken_down=True)
    with pytest.raises(ApplicationError, match="taken down"):
        services.product_publish(product=product)


def test_editing_a_published_listing_cannot_break_its_checklist():
    product = ProductFactory(complete=True, seller_ready=True)
    services.product_publish(product=product)
    with pytest.raises(ApplicationError, match="must stay complete"):
        services.product_update(product=product, description="short")
    assert Product.objects.get(pk=product.pk).description.startswith("A planter")


# --- slugs -------------------------------------------------------------------------------
def test_the_slug_comes_from_the_title_and_survives_title_changes():
    product = services.product_create(
        seller=UserFactory(), kind="FILE", title="Gear Box!", category=category(), price_cents=0
    )
    assert product.slug == "gear-box"
    services.product_update(product=product, title="Planetary Gear Box")
    product.refresh_from_db()
    assert (product.title, product.slug) == ("Planetary Gear Box", "gear-box")


def test_a_new_slug_keeps_the_old_one_as_history_and_titles_collide_safely():
    first = services.product_create(
        seller=UserFactory(), kind="FILE", title="Vase", category=category(), price_cents=0
    )
    services.product_update(product=first, slug="spiral-vase")
    assert ProductSlugHistory.objects.get().slug == "vase"
    # a new listing titled "Vase" cannot take the retired slug: old links still point home
    second = services.product_create(
        seller=UserFactory(), kind="FILE", title="Vase", category=category(), price_cents=0
    )
    assert second.slug == "vase-2"
    with pytest.raises(ApplicationError, match="taken"):
        services.product_update(product=second, slug="spiral-vase")


def test_a_printed_item_cannot_be_free():
    with pytest.raises(ApplicationError, match="only digital files can be free"):
        services.product_create(
            seller=UserFactory(), kind="PHYSICAL", title="Pot", category=category(), price_cents=0
        )
    assert not Product.objects.exists()


# --- description sanitizer -------------------------------------------------------------
@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="#" onclick="steal()">x</a>',
        "<iframe src=https://evil.example></iframe>",
        '<p style="background:url(javascript:alert(1))">x</p>',
    ],
)
def test_the_sanitizer_removes_scripts_handlers_and_js_links(hostile):
    html = render_markdown(f"Nice planter.\n\n{hostile}")
    tags = _tags_and_attributes(html)
    assert {name for name, _ in tags} <= {"p", "a"}
    for _, attrs in tags:
        assert not any(key.startswith("on") or key == "style" for key, _ in attrs)
        assert not any((value or "").lower().startswith("javascript") for _, value in attrs)
    assert "Nice planter." in html


def _tags_and_attributes(html: str) -> list[tuple[str, list]]:
    """Every element the browser would build from `html` (escaped text builds none)."""
    from html.parser import HTMLParser

    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collector().feed(html)
    return found


def test_markdown_renders_and_links_are_nofollow():
    html = render_markdown("# Title\n\n**bold** and [site](https://example.com)")
    assert "<h2>Title</h2>" in html
    assert "<strong>bold</strong>" in html
    assert 'href="https://example.com"' in html and 'rel="nofollow' in html


def test_the_service_stores_sanitized_html_beside_the_markdown():
    product = services.product_create(
        seller=UserFactory(),
        kind="FILE",
        title="T",
        category=category(),
        price_cents=0,
        description="hi <script>x()</script>",
    )
    assert "<script" not in product.description_html


# --- images and files ----------------------------------------------------------------
def test_an_image_is_stored_as_webp_without_exif_with_thumbnails_and_becomes_the_cover():
    product = ProductFactory()
    image = services.product_image_add(
        product=product, upload=upload("photo.jpg", jpeg_with_gps((1600, 1200)))
    )
    product.refresh_from_db()
    assert product.cover_image == image
    for name, side in (("image", 1600), ("detail", 1200), ("card", 480)):
        with getattr(image, name).open("rb") as fh, Image.open(fh) as stored:
            assert stored.format == "WEBP"
            assert max(stored.size) == side
            assert not stored.getexif()


def test_a_non_image_is_refused_with_a_message_and_nothing_is_stored():
    product = ProductFactory()
    with pytest.raises(ApplicationError, match="not an image"):
        services.product_image_add(product=product, upload=upload("x.png", b"GIF89a nonsense"))
    assert product.images.count() == 0


def test_removing_the_cover_promotes_the_next_image():
    product = ProductFactory()
    first = services.product_image_add(
        product=product, upload=upload("a.png", image_bytes(size=(300, 300)))
    )
    second = services.product_image_add(
        product=product, upload=upload("b.png", image_bytes(size=(300, 300)))
    )
    services.product_image_remove(image=first)
    product.refresh_from_db()
    assert product.cover_image == second


def test_duplicate_makes_an_independent_draft_with_images_files_and_zero_counters():
    product = ProductFactory(complete=True, seller_ready=True)
    services.product_publish(product=product)
    Product.objects.filter(pk=product.pk).update(download_count=7)
    copy = services.product_duplicate(product=product)
    assert copy.pk != product.pk
    assert copy.status == Product.Status.DRAFT and copy.published_at is None
    assert copy.title.endswith("(copy)") and copy.slug != product.slug
    assert copy.download_count == 0
    assert copy.images.count() == 1 and copy.cover_image is not None
    assert copy.cover_image.product_id == copy.pk
    asset = copy.assets.get()
    assert asset.file.name != product.assets.get().file.name
    with asset.file.open("rb") as fh:
        assert fh.read()[:4] == b"Home"
    assert services.product_publish_checklist(copy).ok


def test_removing_a_file_keeps_its_row_for_history_but_hides_it():
    product = ProductFactory(price_cents=0, complete=True)
    second = DigitalAssetFactory(product=product)
    services.digital_asset_remove(asset=second)
    second.refresh_from_db()
    assert second.removed_at is not None
    assert DigitalAsset.objects.filter(product=product).count() == 2
    live = DigitalAsset.objects.filter(product=product, removed_at__isnull=True)
    assert list(live) == [product.assets.exclude(pk=second.pk).get()]
    assert services.product_publish_checklist(product).ok


# --- concurrency (PostgreSQL: real row locks) -------------------------------------
def _in_thread(work) -> tuple[threading.Thread, list]:
    """Run `work` on its own connection; what it raises lands in the returned list."""
    outcome: list = []

    def run():
        try:
            work()
        except Exception as exc:  # collected for the test's assertions
            outcome.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.mark.django_db(transaction=True)
def test_removing_a_file_while_another_is_added_keeps_the_format_filter_exact():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    # given: a draft with two STL files
    product = ProductFactory(price_cents=0, complete=True)
    second = DigitalAssetFactory(product=product)
    # when: one request adds an OBJ (holding the listing) while another removes an STL
    with transaction.atomic():
        services.digital_asset_add(
            product=product, upload=upload("hook.obj", obj_text()), is_previewable=False
        )
        thread, errors = _in_thread(lambda: services.digital_asset_remove(asset=second))
        thread.join(timeout=1)  # it waits for the listing, or (unlocked) runs ahead
    thread.join()
    # then: the browse filter's cached formats match the live files
    assert errors == []
    product.refresh_from_db()
    live = DigitalAsset.objects.filter(product=product, removed_at__isnull=True)
    assert sorted(live.values_list("kind", flat=True)) == ["obj", "stl"]
    assert product.file_formats == ",obj,stl,"


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_removals_cannot_leave_a_published_listing_without_pictures():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    # given: a published listing with two pictures
    product = ProductFactory(complete=True, seller_ready=True)
    services.product_publish(product=product)
    first = product.images.get()
    second = ProductImageFactory(product=product, position=1)
    # when: two requests each remove one
    with transaction.atomic():
        services.product_image_remove(image=second)
        thread, errors = _in_thread(lambda: services.product_image_remove(image=first))
        thread.join(timeout=1)
    thread.join()
    # then: the second is refused with the rule's message and the first picture stays
    assert [type(e) for e in errors] == [ApplicationError]
    assert "needs an image" in errors[0].message
    product.refresh_from_db()
    assert list(product.images.all()) == [first] and product.cover_image == first


def test_every_demo_cover_shows_its_whole_title():
    from PIL import Image, ImageDraw

    from catalog.demo import LISTINGS, _title_fitted

    draw = ImageDraw.Draw(Image.new("RGB", (960, 720)))
    titles = [row[0] for rows in LISTINGS.values() for row in rows]
    titles.append("Articulated Dragon with Folding Wings and Display Stand (PLA)")
    for title in titles:
        lines, font = _title_fitted(draw, title, width=880)
        assert " ".join(lines) == title  # nothing cut off
        assert all(draw.textlength(line, font=font) <= 880 for line in lines), title
