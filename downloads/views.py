import re

from django.conf import settings
from django.core import signing
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.http import content_disposition_header
from django.views import View
from django_ratelimit.decorators import ratelimit

from catalog.models import DigitalAsset, Product
from downloads.selectors import download_entitlement, downloadable_assets, library_for_user
from downloads.services import (
    bundle_zip_stream,
    download_link,
    download_link_open,
    download_record,
)
from marketplace.access import VerifiedEmailRequiredMixin
from orders.selectors import access_token_from

# At most 18 ASCII digits a side: no file is larger, and int() of a longer run is slow
# or refused (a 500). A Range we cannot parse is ignored, as RFC 9110 allows.
_RANGE = re.compile(r"bytes=([0-9]{0,18})-([0-9]{0,18})")


def user_or_session(group: str, request: HttpRequest) -> str:
    """Rate-limit key: the signed-in user, else the guest's session (else their IP)."""
    if request.user.is_authenticated:
        return f"user:{request.user.pk}"
    if not request.session.session_key:
        request.session.save()  # give the guest an identity before the first count
    return f"guest:{request.session.session_key}"


def _download_rate(group, request) -> str:
    return settings.DOWNLOAD_RATE


def _download_rate_ip(group, request) -> str:
    return settings.DOWNLOAD_RATE_IP


throttled = [
    ratelimit(key=user_or_session, rate=_download_rate, method="GET", block=True),
    ratelimit(key="ip", rate=_download_rate_ip, method="GET", block=True),
]


class _EntitledView(View):
    """Loads the product and the requester's entitlement; anyone without one gets the
    same 404 as for a product that does not exist."""

    def entitled_product(self, request: HttpRequest, product_pk: int):
        product = Product.objects.select_related("seller").filter(pk=product_pk).first()
        entitlement = (
            download_entitlement(
                product=product, user=request.user, token=access_token_from(request.GET.get("t"))
            )
            if product is not None
            else None
        )
        if entitlement is None:
            raise Http404("No such file.")
        if not request.user.is_authenticated and not request.session.session_key:
            request.session.save()  # guests are told apart by their session
        return product, entitlement


@method_decorator(throttled, name="get")
class AssetDownloadView(_EntitledView):
    """Buyers (signed in or with the order token `?t=`), anyone for a free file, the
    seller and staff: count the download, then hand over a short-lived link."""

    def get(self, request: HttpRequest, product_pk: int, asset_pk: int) -> HttpResponse:
        product, entitlement = self.entitled_product(request, product_pk)
        asset = product.assets.filter(pk=asset_pk, removed_at__isnull=True).first()
        if asset is None:
            raise Http404("No such file.")
        download_record(
            product=product,
            assets=[asset],
            entitlement=entitlement,
            user=request.user,
            session_key=request.session.session_key or "",
            size=asset.size_bytes,
        )
        return redirect(download_link(asset))


@method_decorator(throttled, name="get")
class BundleDownloadView(_EntitledView):
    """Same rule as a single file: the whole bundle as one ZIP, streamed as it is built."""

    def get(self, request: HttpRequest, product_pk: int) -> HttpResponse:
        product, entitlement = self.entitled_product(request, product_pk)
        assets = downloadable_assets(product)
        if not assets:
            raise Http404("No files.")
        download_record(
            product=product,
            assets=assets,
            entitlement=entitlement,
            user=request.user,
            session_key=request.session.session_key or "",
            size=sum(a.size_bytes for a in assets),
        )
        response = StreamingHttpResponse(bundle_zip_stream(assets), content_type="application/zip")
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"{product.slug}.zip"
        )
        response["Cache-Control"] = "private, no-store"
        return response


@method_decorator(ratelimit(key="ip", rate=_download_rate_ip, method="GET", block=True), name="get")
class SignedFileView(View):
    """Whoever holds a fresh signed link (local storage only): the file, with ranges."""

    def get(self, request: HttpRequest, signed: str) -> HttpResponse:
        try:
            asset = download_link_open(signed)
        except signing.SignatureExpired:
            return render(request, "downloads/link_problem.html", {"expired": True}, status=410)
        except (signing.BadSignature, DigitalAsset.DoesNotExist, KeyError, TypeError):
            return render(request, "downloads/link_problem.html", {"expired": False}, status=403)
        return _file_response(request, asset)


def _file_response(request: HttpRequest, asset: DigitalAsset) -> HttpResponse:
    """The file as an attachment, honouring a single `Range: bytes=a-b` (resumed and
    parallel downloads of large models)."""
    size = asset.file.size
    match = _RANGE.fullmatch(request.headers.get("Range", "").strip())
    if match and any(match.groups()):
        first, last = match.groups()
        if first == "":
            start, end = max(size - int(last), 0), size - 1
        else:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
        if start >= size or start > end:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        fileobj = asset.file.open("rb")
        fileobj.seek(start)
        response = StreamingHttpResponse(
            _read(fileobj, end - start + 1), status=206, content_type="application/octet-stream"
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    else:
        response = FileResponse(asset.file.open("rb"), content_type="application/octet-stream")
        response["Content-Length"] = str(size)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=asset.original_name
    )
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, no-store"
    return response


def _read(fileobj, remaining: int, chunk: int = 64 * 1024):
    try:
        while remaining > 0:
            data = fileobj.read(min(chunk, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data
    finally:
        fileobj.close()


class LibraryView(VerifiedEmailRequiredMixin, View):
    """Verified users: every file they own, bought or downloaded free."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(
            request, "downloads/library.html", {"entries": library_for_user(user=request.user)}
        )
