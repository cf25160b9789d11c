"""Uploads and files: PDFs with active content refused, file names measured in bytes,
the hostile corpus through every upload form (never a 500), a non-public listing's
pictures and previews not served to the public, and NUL in a URL is a 400."""

import io
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from catalog.validation import validate_digital_file
from tests.catalog.factories import DigitalAssetFactory, ProductFactory, ProductImageFactory
from tests.factories import SellerProfileFactory, UserFactory
from tests.images import decompression_bomb_png, image_bytes, jpeg_with_gps, upload
from tests.mesh_files import ascii_stl, binary_stl, pdf_bytes, three_mf, zip_bomb, zip_of

pytestmark = pytest.mark.django_db

JSON = {"Accept": "application/json"}


def _pdf_with(extra: bytes) -> bytes:
    """A valid PDF whose catalog also carries `extra` (an action, a script…)."""
    return pdf_bytes().replace(b"/Type /Catalog", b"/Type /Catalog " + extra)


def _pdf_with_compressed(dictionary: bytes) -> bytes:
    """A PDF hiding `dictionary` in a Flate-compressed object stream."""
    packed = zlib.compress(dictionary)
    stream = (
        b"5 0 obj << /Type /ObjStm /Filter /FlateDecode /Length "
        + str(len(packed)).encode()
        + b" >> stream\n"
        + packed
        + b"\nendstream endobj\n"
    )
    return pdf_bytes().replace(b"trailer", stream + b"trailer")


ACTIVE_PDFS = {
    "javascript": _pdf_with(b"/Names << /JavaScript 6 0 R >>"),
    "js": _pdf_with(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"),
    "openaction": _pdf_with(b"/OpenAction 3 0 R"),
    "aa": _pdf_with(b"/AA << /O 7 0 R >>"),
    "launch": _pdf_with(b"/Names << /X << /S /Launch /F (calc.exe) >> >>"),
    "embedded-file": _pdf_with(b"/Names << /EmbeddedFiles 8 0 R >>"),
    "hex-escaped": _pdf_with(b"/Names << /J#61vaScript 6 0 R >>"),
    "compressed": _pdf_with_compressed(b"<< /S /JavaScript /JS (app.alert(1)) >>"),
}


@pytest.mark.parametrize("content", ACTIVE_PDFS.values(), ids=ACTIVE_PDFS.keys())
def test_a_pdf_with_active_content_is_refused(content):
    with pytest.raises(ValidationError) as refused:
        validate_digital_file(io.BytesIO(content))
    assert refused.value.code == "pdf_active_content"
    assert "active content" in refused.value.messages[0]


def test_a_pdf_with_active_content_inside_a_zip_is_refused():
    bundle = zip_of({"model.stl": binary_stl(4), "guide.pdf": ACTIVE_PDFS["js"]})
    with pytest.raises(ValidationError) as refused:
        validate_digital_file(io.BytesIO(bundle))
    assert refused.value.code == "pdf_active_content"
    assert "guide.pdf" in refused.value.messages[0]


def test_a_plain_pdf_and_one_mentioning_javascript_in_its_text_are_accepted():
    assert validate_digital_file(io.BytesIO(pdf_bytes())).kind == "pdf"
    words = pdf_bytes("Do not use JavaScript or JS here")
    assert validate_digital_file(io.BytesIO(words)).kind == "pdf"


def test_a_pdf_upload_with_javascript_is_a_400_and_stores_nothing(client):
    product = ProductFactory(seller=SellerProfileFactory().user)
    client.force_login(product.seller)
    url = reverse("catalog:seller-asset-upload", kwargs={"pk": product.pk})
    response = client.post(url, {"file": upload("guide.pdf", ACTIVE_PDFS["js"])}, headers=JSON)
    assert response.status_code == 400
    assert "active content" in response.json()["error"]
    assert product.assets.count() == 0


# ------------------------------------------------------------------------------
# File names in bytes
# ------------------------------------------------------------------------------
LONG_ACCENTED = "é" * 196 + ".stl"  # 200 characters, 396 bytes of UTF-8


def test_a_long_accented_file_name_is_a_400_with_a_message_not_a_500(client):
    product = ProductFactory(seller=SellerProfileFactory().user)
    client.force_login(product.seller)
    url = reverse("catalog:seller-asset-upload", kwargs={"pk": product.pk})
    response = client.post(url, {"file": upload(LONG_ACCENTED, binary_stl(4))}, headers=JSON)
    assert response.status_code == 400
    assert "file name is too long (396 bytes; at most 200" in response.json()["error"]
    assert product.assets.count() == 0
    # without the progress-bar script: back to the form with the same message
    response = client.post(url, {"file": upload(LONG_ACCENTED, binary_stl(4))}, follow=True)
    assert "file name is too long" in response.content.decode()
    # and the same name at 100 characters (200 bytes) is fine
    ok = client.post(url, {"file": upload("é" * 98 + ".stl", binary_stl(4))}, headers=JSON)
    assert ok.status_code == 200
    assert product.assets.get().original_name == "é" * 98 + ".stl"


def test_a_long_accented_image_name_is_a_400(client):
    product = ProductFactory(seller=SellerProfileFactory().user)
    client.force_login(product.seller)
    url = reverse("catalog:seller-image-upload", kwargs={"pk": product.pk})
    name = "é" * 196 + ".png"
    response = client.post(
        url, {"image": upload(name, image_bytes("PNG", (400, 300)))}, headers=JSON
    )
    assert response.status_code == 400
    assert "file name is too long" in response.json()["error"]
    assert product.images.count() == 0


# ------------------------------------------------------------------------------
# The corpus through every upload form: accepted or refused with a message, never a 500
# ------------------------------------------------------------------------------
CORPUS = {
    "binary-stl": binary_stl(12),
    "ascii-stl": ascii_stl(3),
    "3mf": three_mf(),
    "pdf": pdf_bytes(),
    "pdf-js": ACTIVE_PDFS["js"],
    "png": image_bytes("PNG", (400, 300)),
    "jpeg-gps": jpeg_with_gps((400, 300)),
    "png-bomb": decompression_bomb_png(),
    "zip-bomb": zip_bomb(2),
    "text": b"hello, world\n" * 10,
    "empty": b"",
    "exe": b"MZ\x90\x00" + bytes(200),
    "nul-name": binary_stl(2),
}


def _name(key: str) -> str:
    return {"nul-name": "mo\x00del.stl", "3mf": "model.3mf"}.get(key, f"{key}.bin")


@pytest.mark.parametrize("key", CORPUS.keys())
def test_the_corpus_through_the_file_and_image_forms_never_500s(key):
    seller = SellerProfileFactory().user
    product = ProductFactory(seller=seller)
    client = Client(raise_request_exception=False)
    client.force_login(seller)
    for route, field in (("seller-asset-upload", "file"), ("seller-image-upload", "image")):
        url = reverse(f"catalog:{route}", kwargs={"pk": product.pk})
        response = client.post(url, {field: upload(_name(key), CORPUS[key])}, headers=JSON)
        assert response.status_code in (200, 400), (route, key, response.status_code)
        if response.status_code == 400:
            assert response.json()["error"]


@pytest.mark.parametrize("key", CORPUS.keys())
def test_the_corpus_through_the_shop_picture_form_never_500s(key):
    seller = SellerProfileFactory().user
    client = Client(raise_request_exception=False)
    client.force_login(seller)
    profile = seller.seller_profile
    response = client.post(
        reverse("marketplace:seller-profile-update"),
        {
            "display_name": profile.display_name,
            "slug": profile.slug,
            "bio": "",
            "avatar": upload(_name(key), CORPUS[key]),
        },
    )
    assert response.status_code in (200, 302, 400), (key, response.status_code)


# ------------------------------------------------------------------------------
# A non-public listing's files
# ------------------------------------------------------------------------------
def _media_urls(product):
    image = ProductImageFactory(product=product)
    asset = DigitalAssetFactory(product=product)
    asset.preview.save("preview.stl", io.BytesIO(binary_stl(2)), save=True)
    return [image.image.url, image.card.url, asset.preview.url]


@pytest.mark.parametrize(
    "state",
    [
        {"status": "DRAFT"},
        {"status": "PUBLISHED", "is_taken_down": True},
        {"status": "ARCHIVED"},
    ],
    ids=["draft", "taken-down", "archived"],
)
def test_a_non_public_listings_files_are_404_to_the_public_and_200_to_its_seller(state):
    seller = SellerProfileFactory().user
    product = ProductFactory(seller=seller, **state)
    urls = _media_urls(product)
    seller_client, staff_client = Client(), Client()
    seller_client.force_login(seller)
    staff_client.force_login(UserFactory(is_staff=True))
    buyer = Client()
    buyer.force_login(UserFactory())
    for url in urls:
        assert Client().get(url).status_code == 404, url
        assert buyer.get(url).status_code == 404, url
        assert seller_client.get(url).status_code == 200, url
        assert staff_client.get(url).status_code == 200, url


def test_a_suspended_sellers_files_are_not_public():
    seller = SellerProfileFactory().user
    product = ProductFactory(seller=seller, status="PUBLISHED", complete=True, seller_ready=True)
    urls = _media_urls(product)
    assert all(Client().get(url).status_code == 200 for url in urls)
    type(seller).objects.filter(pk=seller.pk).update(is_suspended=True)
    assert all(Client().get(url).status_code == 404 for url in urls)


def test_listing_files_have_unguessable_names():
    product = ProductFactory(seller=SellerProfileFactory().user, status="DRAFT")
    first, second = (ProductImageFactory(product=product) for _ in range(2))
    folder = lambda image: image.image.name.rsplit("/", 2)[-2]  # noqa: E731
    assert len(folder(first)) == 16 and folder(first) != folder(second)


# ------------------------------------------------------------------------------
# NUL in a URL
# ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "/payments/simulator/checkout/cs_test%00abc/",
        "/payments/simulator/onboarding/acct_%00/",
        "/search/?q=plan%00ter",
    ],
)
def test_a_nul_byte_in_a_url_is_a_400_not_a_500(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert "not allowed" in response.content.decode()
