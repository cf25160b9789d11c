import io
import re
import threading
import zipfile

import pytest
from django.core import signing
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import connection
from django.urls import reverse

from catalog.models import DigitalAsset, Product
from downloads.models import ProductDownloadEvent
from downloads.selectors import download_stats_by_product, library_for_user
from downloads.services import LINK_SALT
from tests.catalog.factories import DigitalAssetFactory, ProductFactory
from tests.factories import SellerProfileFactory, UserFactory
from tests.mesh_files import binary_stl
from tests.orders.factories import paid_order

pytestmark = pytest.mark.django_db


def _file_product(**kwargs) -> Product:
    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True, **kwargs)
    return product


def _asset_url(product, token=None):
    asset = product.assets.get()
    url = reverse("downloads:asset", kwargs={"product_pk": product.pk, "asset_pk": asset.pk})
    return url + (f"?t={token}" if token else "")


def _fetch(client, url):
    """Follow our redirect to the short-lived link and return (status, bytes)."""
    response = client.get(url)
    if response.status_code != 302:
        return response.status_code, b""
    final = client.get(response["Location"])
    return final.status_code, b"".join(
        final.streaming_content
    ) if final.streaming else final.content


# --- who may download -------------------------------------------------------------
def test_the_who_may_download_matrix(client):
    product = _file_product(price_cents=700)
    stored = product.assets.get().file.open("rb").read()
    buyer, other = UserFactory(), UserFactory()
    bought = paid_order(product, buyer=buyer)
    guest_order = paid_order(product, email="guest@example.com")
    staff = UserFactory(is_staff=True)
    cases = [
        ("buyer", buyer, None, 200),
        ("other buyer", other, None, 404),
        ("guest with the right token", None, guest_order.access_token, 200),
        ("guest with a wrong token", None, guest_order.access_token[:-2] + "xx", 404),
        ("anonymous, no token", None, None, 404),
        (
            "a token with a NUL byte (refused before any view: 400)",
            None,
            "%00" + guest_order.access_token,
            400,
        ),
        ("seller", product.seller, None, 200),
        ("staff", staff, None, 200),
    ]
    for label, user, token, expected in cases:
        client.logout()
        if user:
            client.force_login(user)
        status, body = _fetch(client, _asset_url(product, token))
        assert status == expected, label
        if expected == 200:
            assert body == stored, label
    # only the buyer and the guest were counted; seller and staff never are
    product.refresh_from_db()
    assert product.download_count == 2
    assert ProductDownloadEvent.objects.count() == 2
    assert bought.items.get().download_events.count() == 1


def test_a_refunded_line_loses_its_download(client):
    product = _file_product()
    buyer = UserFactory()
    order = paid_order(product, buyer=buyer)
    order.items.update(refunded_at="2026-11-01T00:00Z")
    client.force_login(buyer)
    assert client.get(_asset_url(product)).status_code == 404


def test_a_free_file_is_downloadable_by_guests_and_users_and_counted_by_session(client):
    product = _file_product(price_cents=0)
    status, _ = _fetch(client, _asset_url(product))
    assert status == 200
    event = ProductDownloadEvent.objects.get()
    assert event.user is None and event.session_key == client.session.session_key != ""
    user = UserFactory()
    client.force_login(user)
    assert _fetch(client, _asset_url(product))[0] == 200
    assert download_stats_by_product([product.pk]) == {product.pk: (2, 2)}
    # and it is in the user's library
    assert [e.product for e in library_for_user(user=user)] == [product]


def test_a_draft_free_file_is_not_public(client):
    product = ProductFactory(price_cents=0, complete=True)  # a draft
    assert client.get(_asset_url(product)).status_code == 404


def test_a_suspended_sellers_buyers_keep_their_files(client):
    product = _file_product()
    buyer = UserFactory()
    paid_order(product, buyer=buyer)
    product.seller.is_active = False
    product.seller.save()
    Product.objects.filter(pk=product.pk).update(is_taken_down=True)
    client.force_login(buyer)
    assert _fetch(client, _asset_url(product))[0] == 200


def test_physical_items_have_no_downloads(client):
    product = ProductFactory(physical=True, status="PUBLISHED", complete=True)
    url = reverse("downloads:bundle", kwargs={"product_pk": product.pk})
    client.force_login(product.seller)
    assert client.get(url).status_code == 404


# --- counters ----------------------------------------------------------------------
def test_blank_guest_sessions_are_not_counted_as_unique_people():
    product = _file_product(price_cents=0)
    asset = product.assets.get()
    user = UserFactory()
    for who in (
        {"user": user},
        {"user": user},
        {"session_key": "abc"},
        {"session_key": "abc"},
        {"session_key": "def"},
        {"session_key": ""},
        {"session_key": ""},
    ):
        ProductDownloadEvent.objects.create(product=product, asset=asset, **who)
    assert download_stats_by_product([product.pk]) == {product.pk: (3, 7)}


def test_the_seller_listings_page_shows_download_counts(client):
    product = _file_product(price_cents=0, seller=SellerProfileFactory().user)
    _fetch(client, _asset_url(product))
    client.force_login(product.seller)
    html = client.get(reverse("catalog:seller-listing-list")).content.decode()
    assert re.search(r"1\s*unique\s*/\s*1\s*total", html), html[html.find("unique") - 200 :][:400]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_n_concurrent_downloads_give_exact_counts():
    from django.test import Client

    product = _file_product(price_cents=0)
    url = _asset_url(product)
    barrier = threading.Barrier(8)
    statuses = []

    def download():
        barrier.wait()
        try:
            statuses.append(Client().get(url).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=download) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    product.refresh_from_db()
    assert statuses == [302] * 8
    assert product.download_count == 8
    assert DigitalAsset.objects.get(product=product).download_count == 8
    assert ProductDownloadEvent.objects.filter(product=product).count() == 8


# --- links -------------------------------------------------------------------------
def test_a_tampered_local_link_is_refused_and_an_expired_one_explained(client, settings):
    product = _file_product(price_cents=0)
    link = client.get(_asset_url(product))["Location"]
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA/") else "BBB") + "/"
    response = client.get(tampered)
    assert response.status_code == 403
    assert "not valid" in response.content.decode()
    settings.DOWNLOAD_LINK_SECONDS = -1  # every link is already too old
    response = client.get(link)
    assert response.status_code == 410
    assert "expired" in response.content.decode()


def test_local_links_serve_byte_ranges(client):
    product = _file_product(price_cents=0)
    stored = product.assets.get().file.open("rb").read()
    link = client.get(_asset_url(product))["Location"]
    response = client.get(link, headers={"Range": "bytes=10-19"})
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 10-19/{len(stored)}"
    assert b"".join(response.streaming_content) == stored[10:20]
    full = client.get(link)
    assert full["Content-Disposition"] == 'attachment; filename="box.stl"'
    assert client.get(link, headers={"Range": f"bytes={len(stored) + 5}-"}).status_code == 416


@pytest.mark.parametrize(
    "header",
    [
        "bytes=" + "9" * 5000 + "-",  # int() of this many digits raises
        "bytes=-" + "9" * 5000,
        "bytes=0-" + "9" * 5000,
        "bytes=--",
        "bytes=0-1,3-4",  # several ranges: we serve one or the whole file
        "bytes=\u0663-",  # a non-ASCII digit is not a number here
    ],
)
def test_a_range_header_we_cannot_use_gets_the_whole_file_not_a_500(client, header):
    # given a valid local link
    product = _file_product(price_cents=0)
    stored = product.assets.get().file.open("rb").read()
    link = client.get(_asset_url(product))["Location"]
    # when the Range header is malformed or absurd
    response = client.get(link, headers={"Range": header})
    # then it is ignored and the whole file is served
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == stored


def test_a_link_for_one_file_cannot_be_rewritten_to_another(client):
    # given a valid link to a free file, and a second (paid) file nobody bought
    free = _file_product(price_cents=0)
    paid = _file_product(price_cents=900)
    link = client.get(_asset_url(free))["Location"]
    signed = link.rstrip("/").rsplit("/", 1)[1]
    _, rest = signed.split(":", 1)
    # when the payload is swapped for the paid file's, keeping the old signature
    other = signing.dumps({"a": paid.assets.get().pk, "p": paid.pk}, salt=LINK_SALT)
    forged = other.split(":", 1)[0] + ":" + rest
    response = client.get(reverse("downloads:file", kwargs={"signed": forged}))
    # then it is refused, and a payload signed with another key is refused too
    assert response.status_code == 403
    elsewhere = signing.dumps({"a": paid.assets.get().pk, "p": paid.pk}, salt="not-ours")
    assert client.get(reverse("downloads:file", kwargs={"signed": elsewhere})).status_code == 403


# --- bundle ------------------------------------------------------------------------
def test_the_bundle_zip_holds_exactly_the_products_files_with_their_names(client):
    product = _file_product(price_cents=0)
    extra = DigitalAssetFactory(
        product=product, original_name="guide.stl", file=ContentFile(binary_stl(3), "g.stl")
    )
    same_name = DigitalAssetFactory(
        product=product, original_name="box.stl", file=ContentFile(binary_stl(5), "b2.stl")
    )
    DigitalAssetFactory(product=product, original_name="old.stl", removed_at="2026-01-01T00:00Z")
    response = client.get(reverse("downloads:bundle", kwargs={"product_pk": product.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == ["box (2).stl", "box.stl", "guide.stl"]
    assert archive.read("guide.stl") == extra.file.open("rb").read()
    assert archive.read("box (2).stl") == same_name.file.open("rb").read()
    product.refresh_from_db()
    assert product.download_count == 1  # one bundle download


# --- throttling ---------------------------------------------------------------------
def test_downloads_are_throttled_with_a_429_that_says_when_and_then_recover(client, settings):
    settings.DOWNLOAD_RATE = "3/m"
    product = _file_product(price_cents=0)
    url = _asset_url(product)
    assert [client.get(url).status_code for _ in range(3)] == [302, 302, 302]
    blocked = client.get(url)
    assert blocked.status_code == 429
    assert blocked["Retry-After"] == "60"
    assert "60" in blocked.content.decode()
    cache.clear()  # the window passes
    assert client.get(url).status_code == 302


# --- library -------------------------------------------------------------------------
def test_the_library_lists_bought_and_free_files_and_nothing_else(client):
    buyer = UserFactory()
    bought = _file_product(title="Bought Gear")
    free = _file_product(title="Free Clip", price_cents=0)
    _file_product(title="Not Mine")
    paid_order(bought, buyer=buyer)
    client.force_login(buyer)
    _fetch(client, _asset_url(free))
    html = client.get(reverse("downloads:library")).content.decode()
    assert "Bought Gear" in html and "Free Clip" in html and "Not Mine" not in html
    assert html.count("Download</a>") == 2


def test_only_a_file_line_grants_the_files_even_if_the_listing_becomes_a_file(client):
    # given a buyer of a printed item whose listing is later turned into a file listing
    product = ProductFactory(physical=True, status="PUBLISHED", complete=True, seller_ready=True)
    buyer = UserFactory()
    paid_order(product, buyer=buyer)
    Product.objects.filter(pk=product.pk).update(kind=Product.Kind.FILE)
    DigitalAssetFactory(product=product)
    # then their order line (a printed item) grants no download, as the order page says
    client.force_login(buyer)
    assert client.get(_asset_url(product)).status_code == 404
    assert library_for_user(user=buyer) == []
