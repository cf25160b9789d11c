"""The production storage path: django-storages against an S3 API (moto's server on
loopback). Public pictures are readable by anyone; paid files only through a presigned
URL. Everything on our side (services, storages, URLs) runs for real."""

import socket
import urllib.error
import urllib.request

import boto3
import pytest
from moto.server import ThreadedMotoServer

from catalog import services
from tests.catalog.factories import ProductFactory
from tests.images import image_bytes, upload
from tests.mesh_files import binary_stl

pytestmark = pytest.mark.django_db

ACCESS = {"access_key": "testing", "secret_key": "testing", "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def s3_endpoint():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket="hc3d-private")
    client.create_bucket(Bucket="hc3d-public")
    yield endpoint, client
    server.stop()


@pytest.fixture
def s3_storages(settings, s3_endpoint):
    endpoint, client = s3_endpoint
    common = {
        **ACCESS,
        "endpoint_url": endpoint,
        "file_overwrite": False,
        "signature_version": "s3v4",
        "addressing_style": "path",
    }
    storages = dict(settings.STORAGES)
    storages["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **common,
            "bucket_name": "hc3d-public",
            "default_acl": "public-read",
            "querystring_auth": False,
        },
    }
    storages["private"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **common,
            "bucket_name": "hc3d-private",
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 300,
        },
    }
    settings.STORAGES = storages
    return endpoint, client


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
