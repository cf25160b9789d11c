"""Counting downloads and handing out short-lived links to private files."""

import logging
import os
import zipfile
from collections.abc import Iterator

from django.conf import settings
from django.core import signing
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils.http import content_disposition_header

from catalog.models import DigitalAsset, Product
from downloads.models import ProductDownloadEvent
from downloads.selectors import Entitlement
from orders.services import order_item_mark_downloaded

logger = logging.getLogger("downloads")

LINK_SALT = "downloads.link"


def download_record(
    *,
    product: Product,
    assets: list[DigitalAsset],
    entitlement: Entitlement,
    user,
    session_key: str,
    size: int,
) -> None:
    """Count one download (of one file, or of the bundle when `assets` has several) and
    log it. Counters move with F() in one transaction, so concurrent downloads never
    lose a count. Sellers' and staff's own downloads are logged but not counted."""
    who = f"user={user.pk}" if user.is_authenticated else f"session={session_key or '-'}"
    logger.info(
        "download product=%s asset=%s %s bytes=%s reason=%s",
        product.pk,
        assets[0].pk if len(assets) == 1 else "bundle",
        who,
        size,
        entitlement.reason,
    )
    if not entitlement.counted:
        return
    with transaction.atomic():
        Product.objects.filter(pk=product.pk).update(download_count=F("download_count") + 1)
        DigitalAsset.objects.filter(pk__in=[a.pk for a in assets]).update(
            download_count=F("download_count") + 1
        )
        ProductDownloadEvent.objects.create(
            product=product,
            asset=assets[0] if len(assets) == 1 else None,
            user=user if user.is_authenticated else None,
            session_key="" if user.is_authenticated else (session_key or "")[:40],
            order_item=entitlement.order_item,
            bytes=size,
        )
        if entitlement.order_item is not None:
            order_item_mark_downloaded(item_id=entitlement.order_item.pk)


def _attachment(filename: str) -> str:
    return content_disposition_header(as_attachment=True, filename=filename)


def download_link(asset: DigitalAsset) -> str:
    """A link to the file that works for `DOWNLOAD_LINK_SECONDS`.

    Object storage: a presigned URL that makes the browser save the file under its
    original name. Local storage: our own signed, expiring URL, streamed by Django.
    """
    storage = asset.file.storage
    if isinstance(storage, FileSystemStorage):  # LazyObject proxies isinstance
        signed = signing.dumps({"a": asset.pk, "p": asset.product_id}, salt=LINK_SALT)
        return reverse("downloads:file", kwargs={"signed": signed})
    return storage.url(
        asset.file.name,
        parameters={
            "ResponseContentDisposition": _attachment(asset.original_name),
            "ResponseContentType": "application/octet-stream",
        },
        expire=settings.DOWNLOAD_LINK_SECONDS,
    )


def download_link_open(signed: str) -> DigitalAsset:
    """The asset a local signed link points at. Raises signing.SignatureExpired or
    signing.BadSignature (tampered) — the view explains either."""
    data = signing.loads(signed, salt=LINK_SALT, max_age=settings.DOWNLOAD_LINK_SECONDS)
    return DigitalAsset.objects.select_related("product").get(pk=data["a"], product_id=data["p"])


class _Sink:
    """A write-only file that zipfile writes into; the generator drains it in chunks."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.position = 0

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data, self.chunks = b"".join(self.chunks), []
        return data


def bundle_zip_stream(assets: list[DigitalAsset], chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
    """Yield a ZIP of `assets` under their original names, never holding more than a
    chunk in memory. Names that repeat get " (2)", " (3)"… so nothing is overwritten."""
    sink = _Sink()
    seen: dict[str, int] = {}
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for asset in assets:
            name = os.path.basename(asset.original_name) or f"file-{asset.pk}"
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                stem, ext = os.path.splitext(name)
                name = f"{stem} ({seen[name]}){ext}"
            with asset.file.open("rb") as src, zf.open(name, mode="w", force_zip64=True) as dst:
                while chunk := src.read(chunk_size):
                    dst.write(chunk)
                    yield sink.drain()
            yield sink.drain()
    yield sink.drain()
