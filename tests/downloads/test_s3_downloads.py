"""Downloads on the production storage path: django-storages against moto's S3 server.
The download URL redirects to a presigned link that returns the exact bytes, names the
file, and is signed for a short window; the private object is never public."""

import urllib.error
import urllib.request
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse

from catalog import services
from tests.catalog.factories import ProductFactory
from tests.images import upload
from tests.mesh_files import binary_stl

pytestmark = pytest.mark.django_db


def _get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, b"", {}


def test_a_buyer_gets_a_presigned_redirect_to_the_exact_bytes_that_expires(
    client, s3_storages, settings
):
    endpoint, _ = s3_storages
    product = ProductFactory(status="PUBLISHED", price_cents=0, complete=False)
    stl = binary_stl(40)
    asset = services.digital_asset_add(
        product=product, upload=upload("Gear Box v2.stl", stl), is_previewable=False
    )
    url = reverse("downloads:asset", kwargs={"product_pk": product.pk, "asset_pk": asset.pk})
    ProductFactory._meta.model.objects.filter(pk=product.pk).update(status="PUBLISHED")

    # when anyone downloads the free file
    response = client.get(url)
    # then it is a redirect to a presigned link on the private bucket, valid ≤ 5 minutes
    assert response.status_code == 302
    link = response["Location"]
    assert link.startswith(f"{endpoint}/hc3d-private/")
    assert "X-Amz-Signature=" in link and "X-Amz-Expires=300" in link
    status, body, headers = _get(link)
    assert status == 200 and body == stl
    assert headers["Content-Disposition"] == 'attachment; filename="Gear Box v2.stl"'
    # and the object itself is not public
    assert _get(f"{endpoint}/hc3d-private/{asset.file.name}")[0] == 403

    # and the link is signed to stop working DOWNLOAD_LINK_SECONDS after it was made.
    # (S3 enforces X-Amz-Date + X-Amz-Expires; moto's server does not check expiry, so
    # the signed window is what is asserted here. Local links' expiry is enforced by us
    # and tested in test_downloads.py.)
    settings.DOWNLOAD_LINK_SECONDS = 60
    query = parse_qs(urlparse(client.get(url)["Location"]).query)
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert query["X-Amz-Expires"] == ["60"]
    assert abs((signed_at - datetime.now(UTC)).total_seconds()) < 30
