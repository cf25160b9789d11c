"""Public media with the listing rule applied (embedded default: local MEDIA_ROOT).

Listing pictures and 3D previews live under `products/<listing id>/…`. Anyone may fetch
them while the listing is public; its seller and staff always; everyone else gets the
same 404 as for a file that does not exist — a draft's, a taken-down listing's or a
suspended seller's files are not public just because their names are known. Every
other media file (shop pictures) is served as is. On S3 the public bucket serves files
itself: there, new files get random folder names (catalog.models upload_to) so they
cannot be guessed (docs/SECURITY.md, "Files").
"""

import re

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.static import serve

from catalog.selectors import product_media_visible

_LISTING_MEDIA = re.compile(r"^products/([0-9]{1,18})/")


def media_serve(request: HttpRequest, path: str) -> HttpResponse:
    """Anyone for public listings' files and other public media; a non-public listing's
    files: its seller and staff only (404 for everyone else)."""
    match = _LISTING_MEDIA.match(path)
    if match and not product_media_visible(product_id=int(match.group(1)), user=request.user):
        raise Http404("No such file.")
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    if match:
        # A listing can stop being public: shared caches must ask again.
        response["Cache-Control"] = "private, max-age=300"
    return response
