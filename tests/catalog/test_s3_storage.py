"""The production storage path: django-storages against an S3 API (moto's server on
loopback). Public pictures are readable by anyone; paid files only through a presigned
URL. Everything on our side (services, storages, URLs) runs for real."""

import urllib.error
import urllib.request

import pytest

from catalog import services
from tests.catalog.factories import ProductFactory
from tests.images import image_bytes, upload
from tests.mesh_files import binary_stl

pytestmark = pytest.mark.django_db


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def test_images_are_public_and_paid_files_are_private_with_presigned_links(
    s3_storages, django_capture_on_commit_callbacks
):
    endpoint, client = s3_storages
    product = ProductFactory()
    # when a seller adds a picture and a file
    image = services.product_image_add(
        product=product, upload=upload("p.png", image_bytes(size=(600, 400)))
    )
    stl = binary_stl(24)
    with django_capture_on_commit_callbacks(execute=True):  # runs the preview task
        asset = services.digital_asset_add(product=product, upload=upload("bracket.stl", stl))

    # then the picture is an object in the public bucket that anyone can fetch
    assert image.card.url.startswith(f"{endpoint}/hc3d-public/")
    status, body = _get(image.card.url)
    assert status == 200 and body[8:12] == b"WEBP"

    # and the paid file is in the private bucket: no anonymous read, no public grant
    plain_url = f"{endpoint}/hc3d-private/{asset.file.name}"
    assert _get(plain_url)[0] == 403
    grants = client.get_object_acl(Bucket="hc3d-private", Key=asset.file.name)["Grants"]
    assert not [g for g in grants if g["Grantee"].get("URI", "").endswith("AllUsers")]

    # and only a presigned, expiring URL returns its exact bytes
    signed = asset.file.url
    assert "X-Amz-Signature=" in signed and "X-Amz-Expires=300" in signed
    assert _get(signed) == (200, stl)

    # and the 3D preview (a degraded copy) is public, the original is not
    asset.refresh_from_db()
    assert asset.preview.url.startswith(f"{endpoint}/hc3d-public/")
    status, preview = _get(asset.preview.url)
    assert status == 200 and preview != stl
