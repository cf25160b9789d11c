"""Who may download what, and what has been downloaded. Reads only."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils.crypto import constant_time_compare

from catalog.hooks import ReviewEvidence
from catalog.models import DigitalAsset, Product
from marketplace.selectors import seller_is_listed


@dataclass(frozen=True)
class Entitlement:
    """Why a requester may download a product's files.

    `counted` is False for the seller and staff (their downloads are not recorded);
    `order_item` is the paid line behind a buyer's right, if any.
    """

    reason: str  # "owner" | "staff" | "purchase" | "free"
    counted: bool
    order_item: object = None


def order_line_grants_download(line) -> bool:
    """Whether an order line (already loaded) entitles its buyer to the files: the same
    rule `_lines_granting_download` applies in SQL — a FILE line of a paid order (partly refunded
    ones too) that was not refunded itself."""
    from orders.models import Order

    return (
        line.kind == Product.Kind.FILE
        and line.order.status in Order.WAS_PAID
        and line.refunded_at is None
    )


def _lines_granting_download():
    """Order lines that entitle their buyer to the product's files (SQL twin of
    `order_line_grants_download`): orders' one rule."""
    from orders.selectors import order_lines_granting_files

    return order_lines_granting_files()


def download_entitlement(*, product: Product, user, token: str | None = None) -> Entitlement | None:
    """The requester's right to `product`'s files, or None (answer with a 404 that does
    not say whether the file exists).

    - the seller and staff: always, never counted;
    - a buyer: a line of a PAID order for this product, not refunded, whose buyer is
      `user` or whose access token equals `token` (constant-time compare). Kept when
      the listing is archived or taken down later, or its seller is suspended;
    - anyone, guests too: a free FILE listing that is public (published, not taken
      down, seller active).
    """
    if product.kind != Product.Kind.FILE:
        return None
    if user.is_authenticated and product.seller_id == user.pk:
        return Entitlement("owner", counted=False)
    if user.is_authenticated and user.is_staff:
        return Entitlement("staff", counted=False)
    lines = _lines_granting_download().filter(product=product).select_related("order")
    if user.is_authenticated:
        mine = lines.filter(order__buyer=user).first()
        if mine is not None:
            return Entitlement("purchase", counted=True, order_item=mine)
    if token:
        line = lines.filter(order__access_token=token).first()
        if line is not None and constant_time_compare(token, line.order.access_token):
            return Entitlement("purchase", counted=True, order_item=line)
    if product.price_cents == 0 and product.is_public and seller_is_listed(product.seller):
        return Entitlement("free", counted=True)
    return None


def downloadable_assets(product: Product) -> list[DigitalAsset]:
    """The files a download gives today: the listing's live files."""
    return list(product.assets.filter(removed_at__isnull=True).order_by("position", "id"))


def download_stats_by_product(
    product_ids: list[int], *, start=None, end=None
) -> dict[int, tuple[int, int]]:
    """{product_id: (unique downloaders, download events)}, over downloads made in
    [start, end) when given (seller analytics), else all time.

    Unique downloaders = distinct signed-in users + distinct non-blank guest sessions
    (a guest download without a session cannot be told apart, so it is not counted
    as a person; it still counts as a download)."""
    from downloads.models import ProductDownloadEvent

    events = ProductDownloadEvent.objects.filter(product_id__in=product_ids)
    if start is not None:
        events = events.filter(created_at__gte=start)
    if end is not None:
        events = events.filter(created_at__lt=end)
    rows = events.values("product_id").annotate(
        users=Count("user", distinct=True),
        sessions=Count(
            "session_key", filter=Q(user__isnull=True) & ~Q(session_key=""), distinct=True
        ),
        total=Count("id"),
    )
    return {r["product_id"]: (r["users"] + r["sessions"], r["total"]) for r in rows}


def listing_metrics_downloads(product_ids: list[int]) -> dict[int, dict[str, int]]:
    """The seller's listings table column `downloads_unique` (a `catalog.hooks` metric)."""
    stats = download_stats_by_product(product_ids)
    return {pid: {"downloads_unique": unique} for pid, (unique, _total) in stats.items()}


def review_evidence_from_download(*, product: Product, user) -> ReviewEvidence | None:
    """A free download (no order line behind it) is first-hand use too. A download made
    through a purchase points at its line, so a refunded purchase does not count here."""
    from downloads.models import ProductDownloadEvent

    if (
        product.kind == Product.Kind.FILE
        and ProductDownloadEvent.objects.filter(
            product=product, user=user, order_item__isnull=True
        ).exists()
    ):
        return ReviewEvidence()
    return None


def product_download_entitled(*, product: Product, user) -> bool:
    """The product page's "Download" button: a file listing `user` may download now."""
    return product.is_file and download_entitlement(product=product, user=user) is not None


@dataclass
class LibraryEntry:
    product: Product
    assets: list[DigitalAsset] = field(default_factory=list)
    order_ids: list[int] = field(default_factory=list)
    free: bool = False


def library_for_user(*, user) -> list[LibraryEntry]:
    """Everything `user` owns: files bought (paid, not refunded) and free files they
    downloaded, grouped by product, newest first, with each product's live files."""
    from downloads.models import ProductDownloadEvent

    bought = (
        _lines_granting_download()
        .filter(order__buyer=user)
        .order_by("-order__paid_at")
        .values_list("product_id", "order_id")
    )
    orders_by_product: dict[int, list[int]] = defaultdict(list)
    for product_id, order_id in bought:
        orders_by_product[product_id].append(order_id)
    free_ids = set(
        ProductDownloadEvent.objects.filter(user=user, product__price_cents=0).values_list(
            "product_id", flat=True
        )
    )
    ids = list(dict.fromkeys([*orders_by_product, *free_ids]))
    products = {
        p.pk: p
        for p in Product.objects.filter(pk__in=ids).select_related(
            "seller__seller_profile", "cover_image"
        )
    }
    assets: dict[int, list[DigitalAsset]] = defaultdict(list)
    for asset in DigitalAsset.objects.filter(product_id__in=ids, removed_at__isnull=True).order_by(
        "position", "id"
    ):
        assets[asset.product_id].append(asset)
    return [
        LibraryEntry(
            product=products[pk],
            assets=assets[pk],
            order_ids=orders_by_product.get(pk, []),
            free=pk not in orders_by_product,
        )
        for pk in ids
        if pk in products
    ]
