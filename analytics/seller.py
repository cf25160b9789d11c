"""Seller analytics: what happened to a seller's listings in a window of days, in the
seller's time zone. Reads only; every query is set-based over the seller's listings and
bounded by the window, so the page costs the same number of queries for 1 or 500 listings.

The money and unit figures come from the selectors the payouts and listings pages use
(`payments.selectors.seller_earnings_by_product`, `orders.selectors.
net_units_sold_by_product`, `downloads.selectors.download_stats_by_product`): the same
rule, so the pages agree to the cent and unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from analytics.models import ProductEngagementEvent
from catalog.models import Favorite, Product
from downloads.selectors import download_stats_by_product
from orders.models import Order, OrderItem
from orders.selectors import net_units_sold_by_product
from payments.selectors import seller_earnings_by_product

WINDOW_DAYS = (7, 30, 90)
MAX_RANGE_DAYS = 366


@dataclass(frozen=True)
class Window:
    """Calendar days [first, last] (both included) in a time zone; `start`/`end` are the
    aware instants bounding them, end exclusive (local midnight after `last`)."""

    first: date
    last: date
    tz: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=self.tz)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=self.tz)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def window_for(
    *, tz_name: str, days: int | None = None, first: date | None = None, last: date | None = None
) -> Window:
    """The last `days` days up to today (today included), or the custom [first, last],
    in the time zone `tz_name`. The caller validated the range (≤ MAX_RANGE_DAYS)."""
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):  # a zone the system's tzdata dropped
        tz = ZoneInfo(settings.TIME_ZONE)
    if first is not None and last is not None:
        return Window(first=first, last=last, tz=tz)
    today = timezone.now().astimezone(tz).date()
    return Window(first=today - timedelta(days=(days or 30) - 1), last=today, tz=tz)


METRICS = (
    "views",
    "clicks",
    "add_to_cart",
    "favorites",
    "purchases",
    "units_net",
    "downloads_unique",
    "downloads_total",
    "revenue_cents",
)


@dataclass
class ListingFigures:
    product: Product
    views: int = 0
    clicks: int = 0
    add_to_cart: int = 0
    favorites: int = 0
    purchases: int = 0  # paid order lines (orders) in the window
    units_net: int = 0  # units on those lines, less the lines refunded in full
    downloads_unique: int = 0
    downloads_total: int = 0
    revenue_cents: int = 0  # in the listing's currency, net of fees and refunds


@dataclass
class SellerAnalytics:
    window: Window
    listings: list[ListingFigures]
    totals: dict[str, int]
    revenue_by_currency: dict[str, int]  # every ledger row, incl. those not on one line
    daily: list[dict] = field(default_factory=list)  # {"day", "views", "units"}
    funnel: list[dict] = field(default_factory=list)


def seller_analytics(*, seller, window: Window) -> SellerAnalytics:
    """Per listing and in total, for `window`: views, clicks, add-to-cart, favorites,
    purchases, net units, unique/total downloads and revenue net of fees and refunds;
    a daily series of views and units sold; the funnel views → clicks → add-to-cart →
    purchases. A fixed number of queries (10), whatever the number of listings."""
    start, end = window.start, window.end
    products = list(
        Product.objects.filter(seller=seller)
        .order_by("title", "id")
        .only("id", "title", "slug", "kind", "status", "currency", "seller_id")
    )
    ids = [p.pk for p in products]
    rows = {p.pk: ListingFigures(product=p) for p in products}

    kinds = ProductEngagementEvent.Kind
    for r in (
        ProductEngagementEvent.objects.filter(
            product__seller=seller, created_at__gte=start, created_at__lt=end
        )
        .values("product_id", "kind")
        .annotate(n=Count("id"))
    ):
        attr = {kinds.VIEW: "views", kinds.CLICK: "clicks", kinds.ADD_TO_CART: "add_to_cart"}
        if r["product_id"] in rows and r["kind"] in attr:
            setattr(rows[r["product_id"]], attr[r["kind"]], r["n"])

    for r in (
        Favorite.objects.filter(product__seller=seller, created_at__gte=start, created_at__lt=end)
        .values("product_id")
        .annotate(n=Count("id"))
    ):
        if r["product_id"] in rows:
            rows[r["product_id"]].favorites = r["n"]

    paid_lines = OrderItem.objects.filter(
        seller=seller,
        order__status__in=Order.WAS_PAID,
        order__paid_at__gte=start,
        order__paid_at__lt=end,
    )
    for r in paid_lines.values("product_id").annotate(n=Count("id")):
        if r["product_id"] in rows:
            rows[r["product_id"]].purchases = r["n"]
    for pid, units in net_units_sold_by_product(ids, paid_from=start, paid_to=end).items():
        rows[pid].units_net = units
    for pid, (unique, total) in download_stats_by_product(ids, start=start, end=end).items():
        rows[pid].downloads_unique, rows[pid].downloads_total = unique, total

    revenue_by_currency: dict[str, int] = {}
    for (pid, currency), cents in seller_earnings_by_product(
        seller=seller, start=start, end=end
    ).items():
        revenue_by_currency[currency] = revenue_by_currency.get(currency, 0) + cents
        if pid in rows and rows[pid].product.currency == currency:
            rows[pid].revenue_cents += cents

    listings = list(rows.values())
    totals = {m: sum(getattr(x, m) for x in listings) for m in METRICS}
    return SellerAnalytics(
        window=window,
        listings=listings,
        totals=totals,
        revenue_by_currency=revenue_by_currency,
        daily=_daily(seller=seller, window=window, paid_lines=paid_lines),
        funnel=_funnel(totals),
    )


def _daily(*, seller, window: Window, paid_lines) -> list[dict]:
    """Views and units sold per local day of the window (two grouped queries)."""
    views = dict(
        ProductEngagementEvent.objects.filter(
            product__seller=seller,
            kind=ProductEngagementEvent.Kind.VIEW,
            created_at__gte=window.start,
            created_at__lt=window.end,
        )
        .annotate(day=TruncDate("created_at", tzinfo=window.tz))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    units = dict(
        paid_lines.annotate(day=TruncDate("order__paid_at", tzinfo=window.tz))
        .values("day")
        .annotate(n=Sum("quantity"))
        .values_list("day", "n")
    )
    return [{"day": d, "views": views.get(d, 0), "units": units.get(d, 0)} for d in window.days]


def _funnel(totals: dict[str, int]) -> list[dict]:
    steps = [
        ("Views", totals["views"]),
        ("Clicks from search, browse and home", totals["clicks"]),
        ("Added to cart", totals["add_to_cart"]),
        ("Purchases", totals["purchases"]),
    ]
    # Each step as a share of views: the steps are not strictly nested (a buyer may add
    # to cart from a card, a guest may buy from a shared link), so "of the step before"
    # could exceed 100% and mislead.
    views = totals["views"]
    return [
        {"label": label, "count": n, "rate": round(100 * n / views, 1) if views and i else None}
        for i, (label, n) in enumerate(steps)
    ]


# ------------------------------------------------------------------------------
# What buyers look for
# ------------------------------------------------------------------------------
SEARCH_WINDOW_DAYS = 30


def search_misses(*, days: int = SEARCH_WINDOW_DAYS, limit: int = 25) -> list[dict]:
    """Searches that found nothing in the last `days` days, most frequent first:
    [{"query", "count"}]. One query over the daily counts."""
    from analytics.models import SearchMissDay

    since = timezone.now().date() - timedelta(days=days - 1)
    return list(
        SearchMissDay.objects.filter(day__gte=since)
        .values("query")
        .annotate(count=Sum("count"))
        .order_by("-count", "query")[:limit]
    )


def _words(text: str) -> set[str]:
    return {
        w for w in "".join(c if c.isalnum() else " " for c in text.lower()).split() if len(w) > 3
    }


def search_misses_for_seller(*, seller, days: int = SEARCH_WINDOW_DAYS, limit: int = 25):
    """The marketplace's misses, with those sharing a word with the seller's own listing
    titles first ("close to what you make"): [{"query", "count", "close"}]."""
    vocabulary: set[str] = set()
    for title in Product.objects.filter(seller=seller).values_list("title", flat=True):
        vocabulary |= _words(title)
    misses = search_misses(days=days, limit=limit)
    for miss in misses:
        miss["close"] = bool(_words(miss["query"]) & vocabulary)
    return sorted(misses, key=lambda m: (not m["close"], -m["count"], m["query"]))


def searches_leading_to_listings(
    *, seller=None, days: int = SEARCH_WINDOW_DAYS, limit: int = 25
) -> list[dict]:
    """Searches whose result card was clicked, last `days` days, most clicks first:
    [{"query", "clicks", "listings", "product_id", "title"}]. For one seller's listings,
    or marketplace-wide (seller None). One grouped query plus one for the titles."""
    since = timezone.now() - timedelta(days=days)
    events = ProductEngagementEvent.objects.filter(
        kind=ProductEngagementEvent.Kind.CLICK,
        source=ProductEngagementEvent.Source.SEARCH,
        created_at__gte=since,
    ).exclude(query="")
    if seller is not None:
        events = events.filter(product__seller=seller)
    rows = list(
        events.values("query")
        .annotate(clicks=Count("id"), listings=Count("product", distinct=True))
        .order_by("-clicks", "query")[:limit]
    )
    # The listing each search led to most (one more grouped query over the same rows).
    top: dict[str, tuple[int, int]] = {}
    for r in (
        events.filter(query__in=[r["query"] for r in rows])
        .values("query", "product_id")
        .annotate(n=Count("id"))
    ):
        if r["n"] > top.get(r["query"], (0, 0))[0]:
            top[r["query"]] = (r["n"], r["product_id"])
    titles = dict(
        Product.objects.filter(pk__in=[p for _n, p in top.values()]).values_list("pk", "title")
    )
    for r in rows:
        pid = top.get(r["query"], (0, None))[1]
        r["product_id"], r["title"] = pid, titles.get(pid, "")
    return rows


def engagement_clicks_by_source(*, seller, window: Window) -> list[dict]:
    """Where the seller's clicks came from in the window: [{"source", "label", "clicks"}]."""
    labels = dict(ProductEngagementEvent.Source.choices)
    rows = (
        ProductEngagementEvent.objects.filter(
            product__seller=seller,
            kind=ProductEngagementEvent.Kind.CLICK,
            created_at__gte=window.start,
            created_at__lt=window.end,
        )
        .exclude(source="")
        .values("source")
        .annotate(clicks=Count("id"))
        .order_by("-clicks")
    )
    return [
        {
            "source": r["source"],
            "label": labels.get(r["source"], r["source"]),
            "clicks": r["clicks"],
        }
        for r in rows
    ]
