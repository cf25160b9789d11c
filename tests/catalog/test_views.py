import pytest
from django.urls import reverse

from catalog.models import Product
from tests.catalog.factories import ProductFactory, category
from tests.factories import SellerProfileFactory, UserFactory
from tests.images import decompression_bomb_png, image_bytes, upload
from tests.mesh_files import binary_stl, zip_of

pytestmark = pytest.mark.django_db


def _seller():
    return SellerProfileFactory().user


def _edit_url(product):
    return reverse("catalog:seller-listing-update", kwargs={"pk": product.pk})


# --- who sees what ------------------------------------------------------------------
VISIBILITY = [
    # status, taken down, {role: expected status code}
    ("PUBLISHED", False, {"anonymous": 200, "buyer": 200, "owner": 200, "staff": 200}),
    ("DRAFT", False, {"anonymous": 404, "buyer": 404, "owner": 200, "staff": 200}),
    ("ARCHIVED", False, {"anonymous": 404, "buyer": 404, "owner": 200, "staff": 200}),
    ("PUBLISHED", True, {"anonymous": 404, "buyer": 404, "owner": 200, "staff": 200}),
]


@pytest.mark.parametrize(("status", "taken_down", "expected"), VISIBILITY)
def test_each_role_sees_each_status_as_the_rules_say(client, status, taken_down, expected):
    product = ProductFactory(status=status, is_taken_down=taken_down, complete=True)
    users = {
        "anonymous": None,
        "buyer": UserFactory(),
        "owner": product.seller,
        "staff": UserFactory(is_staff=True),
    }
    for role, user in users.items():
        client.logout()
        if user:
            client.force_login(user)
        response = client.get(product.get_absolute_url())
        assert response.status_code == expected[role], role


def test_an_old_slug_redirects_permanently_to_the_current_one(client):
    from catalog import services

    product = ProductFactory(status="PUBLISHED", slug="old-name", complete=True, seller_ready=True)
    services.product_update(product=product, slug="new-name")
    response = client.get("/p/old-name/")
    assert response.status_code == 301
    assert response["Location"] == "/p/new-name/"


def test_an_old_slug_of_a_draft_is_404_for_strangers(client):
    from catalog import services

    product = ProductFactory(slug="secret-old", complete=True)
    services.product_update(product=product, slug="secret-new")
    assert client.get("/p/secret-old/").status_code == 404


def test_product_page_shows_price_licence_specs_seller_and_disabled_buy_reason(client):
    profile = SellerProfileFactory(display_name="Maple Prints", slug="maple-prints")
    product = ProductFactory(
        seller=profile.user,
        status="PUBLISHED",
        price_cents=1250,
        print_material="PETG",
        complete=True,
    )
    html = client.get(product.get_absolute_url()).content.decode()
    assert "$12.50" in html
    assert "Personal use only" in html
    assert "PETG" in html
    assert "/shops/maple-prints/" in html
    # seller not ready for payments: the button is disabled and says why
    assert "The seller is not set up to take payments yet." in html


def test_the_owner_sees_their_own_item_as_not_buyable(client):
    product = ProductFactory(status="PUBLISHED", price_cents=0, complete=True)
    client.force_login(product.seller)
    assert "This is your own listing." in client.get(product.get_absolute_url()).content.decode()


# --- seller workspace -----------------------------------------------------------------
def test_another_user_gets_404_on_the_edit_url_and_on_every_action(client):
    product = ProductFactory(complete=True)
    client.force_login(_seller())
    assert client.get(_edit_url(product)).status_code == 404
    for action in ("publish", "archive", "duplicate", "unpublish"):
        url = reverse(f"catalog:seller-listing-{action}", kwargs={"pk": product.pk})
        assert client.post(url).status_code == 404
    assert client.post(_edit_url(product), {"title": "Hijacked"}).status_code == 404
    product.refresh_from_db()
    assert product.title != "Hijacked" and Product.objects.count() == 1


def test_a_buyer_without_a_shop_is_sent_to_open_one(client):
    client.force_login(UserFactory())
    response = client.get(reverse("catalog:seller-listing-list"))
    assert response.status_code == 302
    assert response["Location"] == reverse("marketplace:seller-profile-create")


def test_a_seller_creates_a_draft_through_the_form(client):
    seller = _seller()
    client.force_login(seller)
    response = client.post(
        reverse("catalog:seller-listing-create"),
        {
            "kind": "FILE",
            "title": "Cable Clip",
            "category": category("tools").pk,
            "price": "3.50",
            "license": "CC_BY",
            "tags": "clip, cable",
        },
    )
    product = Product.objects.get(seller=seller)
    assert response.status_code == 302
    assert (product.price_cents, product.status, product.slug) == (350, "DRAFT", "cable-clip")
    assert sorted(product.tags.values_list("name", flat=True)) == ["cable", "clip"]


def test_bad_listing_input_is_a_400_with_field_errors_and_nothing_saved(client):
    seller = _seller()
    client.force_login(seller)
    response = client.post(
        reverse("catalog:seller-listing-create"),
        {"kind": "PHYSICAL", "title": "", "price": "-3", "category": "999999"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "This field is required." in html
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("model.stl", b"just some words, not a model", "none of them"),
        ("empty.stl", b"", "empty"),
        ("truncated.stl", binary_stl(10)[:-30], "truncated"),
        ("evil.zip", zip_of({"../escape.stl": binary_stl(2)}), "escape.stl"),
    ],
    ids=["text-as-stl", "empty", "truncated-binary-stl", "zip-traversal"],
)
def test_hostile_files_are_refused_with_a_message_not_a_500(client, name, content, message):
    product = ProductFactory(seller=_seller())
    client.force_login(product.seller)
    url = reverse("catalog:seller-asset-upload", kwargs={"pk": product.pk})
    response = client.post(
        url, {"file": upload(name, content)}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert product.assets.count() == 0


def test_an_stl_named_pdf_is_accepted_by_its_content(client):
    product = ProductFactory(seller=_seller())
    client.force_login(product.seller)
    url = reverse("catalog:seller-asset-upload", kwargs={"pk": product.pk})
    response = client.post(url, {"file": upload("instructions.pdf", binary_stl(12))})
    assert response.status_code == 302
    asset = product.assets.get()
    assert (asset.kind, asset.triangle_count, asset.original_name) == (
        "stl",
        12,
        "instructions.pdf",
    )


def test_a_decompression_bomb_image_is_refused(client):
    product = ProductFactory(seller=_seller())
    client.force_login(product.seller)
    url = reverse("catalog:seller-image-upload", kwargs={"pk": product.pk})
    response = client.post(
        url,
        {"image": upload("bomb.png", decompression_bomb_png())},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert "too large" in response.json()["error"]
    assert product.images.count() == 0


def test_an_oversize_image_is_refused(client, settings):
    settings.PRODUCT_IMAGE_MAX_BYTES = 2_000
    product = ProductFactory(seller=_seller())
    client.force_login(product.seller)
    url = reverse("catalog:seller-image-upload", kwargs={"pk": product.pk})
    response = client.post(
        url,
        {"image": upload("big.png", image_bytes(size=(900, 900)))},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert "the limit is" in response.json()["error"]


def test_seller_listings_page_shows_checklist_and_metrics_in_constant_queries(
    client, django_assert_max_num_queries
):
    seller = _seller()
    for _ in range(3):
        ProductFactory(seller=seller, complete=True)
    ProductFactory(seller=seller, physical=True, complete=True)
    client.force_login(seller)
    # (13: a signed-in page also reads the legal versions in force, once per request)
    with django_assert_max_num_queries(13) as ctx:
        response = client.get(reverse("catalog:seller-listing-list"))
    few = len(ctx.captured_queries)
    for _ in range(6):
        ProductFactory(seller=seller, complete=True)
    with django_assert_max_num_queries(few):
        response = client.get(reverse("catalog:seller-listing-list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Connect Stripe to sell paid items" in html


def test_staff_browse_and_filter_products_in_the_admin(client):
    ProductFactory(title="Admin Visible Planter", status="PUBLISHED", complete=True)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    listing = client.get("/admin/catalog/product/?status__exact=PUBLISHED&q=Admin+Visible")
    assert listing.status_code == 200
    assert "Admin Visible Planter" in listing.content.decode()
    product = Product.objects.get()
    change = client.get(f"/admin/catalog/product/{product.pk}/change/")
    assert change.status_code == 200
    # money is shown, not editable
    assert 'name="price_cents"' not in change.content.decode()


def test_staff_editing_a_description_in_the_admin_changes_what_buyers_see(client):
    # given: a live listing whose description staff must clean up
    product = ProductFactory(status="PUBLISHED", seller_ready=True)
    product.description = "Call me at 555-0100 to buy it cheaper elsewhere."
    product.description_html = "<p>Call me at 555-0100 to buy it cheaper elsewhere.</p>"
    product.save()
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    data = _admin_change_data(staff, product)
    data["description"] = "A planter that waters itself, printed **without** supports."
    # when
    response = client.post(f"/admin/catalog/product/{product.pk}/change/", data)
    # then
    assert response.status_code == 302, response.content.decode()[:2000]
    product.refresh_from_db()
    assert product.description_html == (
        "<p>A planter that waters itself, printed <strong>without</strong> supports.</p>\n"
    )
    page = client.get(product.get_absolute_url()).content.decode()
    assert "555-0100" not in page and "<strong>without</strong>" in page


def _admin_change_data(staff, product) -> dict:
    """What the admin's change form would post for `product`, unchanged."""
    from django.contrib import admin
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = staff
    form = admin.site._registry[Product].get_form(request, product)(instance=product)
    data = {name: value for name in form.fields if (value := form[name].value()) is not None}
    data["tags"] = []
    for prefix in ("images", "assets"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    data["audit_reason"] = "Staff edit under test"  # every admin edit says why (audited)
    return data


def test_staff_take_a_listing_down_in_the_admin_and_cannot_reassign_or_republish_it(client):
    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    seller = product.seller
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    data = _admin_change_data(staff, product)
    assert not {"seller", "kind", "status"} & set(data)  # shown, not editable
    data |= {"is_taken_down": "on", "takedown_reason": "Copyrighted model.", "seller": "1"}

    response = client.post(f"/admin/catalog/product/{product.pk}/change/", data)

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.is_taken_down and product.taken_down_at is not None
    assert product.seller == seller and product.status == "PUBLISHED"
    assert client.get(product.get_absolute_url()).status_code == 200  # staff still see it
    client.logout()
    assert client.get(product.get_absolute_url()).status_code == 404


def test_the_print_settings_show_only_what_the_seller_filled_in(client):
    # given a file listing with a material and a partial bed size, nothing else
    product = ProductFactory(
        status="PUBLISHED",
        complete=True,
        print_material="PETG",
        bed_min_x_mm=200,
        bed_min_z_mm=150,
    )
    # when a visitor opens it
    html = client.get(product.get_absolute_url()).content.decode()
    # then the table has those two rows and no row of dashes
    assert '<tr><th scope="row">Recommended material</th><td>PETG</td></tr>' in html
    assert '<tr><th scope="row">Bed size needed</th><td>200 × ? × 150 mm</td></tr>' in html
    for empty in ("Layer height", "Infill", "Supports", "Print time", "Model size"):
        assert f'<th scope="row">{empty}</th>' not in html


def test_a_listing_without_print_settings_shows_no_print_settings_table(client):
    # given a file listing with no print settings at all
    product = ProductFactory(status="PUBLISHED", complete=True)
    # when a visitor opens it, then there is no empty table
    html = client.get(product.get_absolute_url()).content.decode()
    assert "Print settings" not in html
    assert "<td>—</td>" not in html


def test_a_printed_item_lists_its_filled_in_details(client):
    # given a printed item with a colour and its shipping profile
    product = ProductFactory(
        status="PUBLISHED", complete=True, seller_ready=True, physical=True, colour="Forest green"
    )
    # when a visitor opens it
    html = client.get(product.get_absolute_url()).content.decode()
    # then the details show the colour and shipping, without the empty material or weight
    assert "Item details" in html
    assert '<tr><th scope="row">Colour</th><td>Forest green</td></tr>' in html
    assert '<tr><th scope="row">Ships from</th><td>United States of America</td></tr>' in html
    assert '<th scope="row">Material</th>' not in html
    assert '<th scope="row">Weight</th>' not in html


def test_seller_listings_page_shows_stock_and_out_of_stock_instead_of_published(client):
    seller = _seller()
    ProductFactory(
        seller=seller, title="Stocked Pot", physical=True, stock_quantity=7, status="PUBLISHED"
    )
    ProductFactory(
        seller=seller, title="Empty Pot", physical=True, stock_quantity=0, status="PUBLISHED"
    )
    client.force_login(seller)
    html = client.get(reverse("catalog:seller-listing-list")).content.decode()
    rows = {row.split("</th>")[0]: row for row in html.split("<tr>")[2:]}
    stocked = next(r for r in rows.values() if "Stocked Pot" in r)
    empty = next(r for r in rows.values() if "Empty Pot" in r)
    assert 'data-label="Stock">7</td>' in stocked
    assert "data-out-of-stock" not in stocked and ">Published</span>" in stocked
    assert "data-out-of-stock" in empty and ">Out of stock</span>" in empty
    assert ">Published</span>" not in empty and "Ready</span>" not in empty
    assert "Have at least one in stock" in empty
