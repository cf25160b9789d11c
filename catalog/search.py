"""Browse, search and "more like this": the discovery reads.

Search on PostgreSQL is full-text (title weighted over tags over description, ranked) with
trigram similarity on the title for typos; elsewhere (SQLite, the embedded default) it is a
case-insensitive match on title, tags and description. Filters and sorts are the same on
both. Every listing query here stays a constant number of SQL statements per page.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils.text import slugify

from catalog.models import Category, Product, Tag
from catalog.selectors import product_queryset_public
from catalog.trending import rating_average_expression, trending_order
from marketplace.selectors import site_config_get

SORTS = {
    "new": "Newest",
    "trending": "Trending",
    "top": "Top rated",
    "price_asc": "Price: low to high",
    "price_desc": "Price: high to low",
    "downloads": "Most downloaded",
}
TRIGRAM_THRESHOLD = 0.5
# Sort keys written exactly as the partial indexes in analytics/migrations/0003 expect.
NEWEST = F("published_at").desc(nulls_last=True)
TOP_SCORE = ExpressionWrapper(F("rating_sum") * 1.0 / F("rating_count"), output_field=FloatField())
TOP_RATED_PAGE = 24


def _enough_top_rated(qualified: QuerySet, minimum: int) -> bool:
    """Whether a full page qualifies for Top Rated (cached a minute; it changes slowly)."""
    key = f"catalog:top-rated-enough:{minimum}:{hash(str(qualified.query))}"
    enough = cache.get(key)
    if enough is None:
        enough = qualified.values("pk")[:TOP_RATED_PAGE].count() >= TOP_RATED_PAGE
        cache.set(key, enough, 60)
    return enough


@dataclass
class BrowseFilters:
    q: str = ""
    category: Category | None = None
    kind: str = ""  # "FILE" | "PHYSICAL"
    price: str = ""  # "free" | "paid"
    min_price_cents: int | None = None
    max_price_cents: int | None = None
    min_rating: int | None = None
    license: str = ""
    file_format: str = ""
    sort: str = ""


@dataclass
class BrowseResult:
    products: QuerySet
    sort: str
    notices: list[str] = field(default_factory=list)
    top_rated_fallback: bool = False


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _apply_filters(qs: QuerySet, f: BrowseFilters) -> QuerySet:
    if f.category is not None:
        qs = qs.filter(category__path__startswith=f.category.path)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.price == "free":
        qs = qs.filter(price_cents=0)
    elif f.price == "paid":
        qs = qs.filter(price_cents__gt=0)
    if f.min_price_cents is not None:
        qs = qs.filter(price_cents__gte=f.min_price_cents)
    if f.max_price_cents is not None:
        qs = qs.filter(price_cents__lte=f.max_price_cents)
    if f.min_rating:
        # rating_sum / rating_count >= n, kept in integers: rating_sum >= n × rating_count
        qs = qs.filter(rating_count__gt=0, rating_sum__gte=F("rating_count") * f.min_rating)
    if f.license:
        qs = qs.filter(license=f.license)
    if f.file_format:
        qs = qs.filter(file_formats__contains=f",{f.file_format},")
    return qs


def _apply_search(qs: QuerySet, q: str) -> tuple[QuerySet, bool]:
    """Returns (queryset, ranked). Ranked querysets carry a `rank` annotation."""
    if not q:
        return qs, False
    if is_postgres():
        from django.contrib.postgres.search import (
            SearchQuery,
            SearchRank,
            SearchVector,
            TrigramWordSimilarity,
        )

        # The same expression as the GIN index in analytics/migrations/0003: keep in step.
        vector = SearchVector("title", weight="A", config="english") + SearchVector(
            "description", weight="C", config="english"
        )
        query = SearchQuery(q, search_type="websearch", config="english")
        tag_slugs = [slugify(word) for word in q.split() if slugify(word)]
        # Each way of matching uses its own index (full-text GIN, trigram GIN on the
        # title, the tag join); their union of ids keeps PostgreSQL off a sequential scan.
        matches = (
            Product.objects.annotate(document=vector)
            .filter(document=query)
            .values("pk")
            .union(
                # word similarity (`%>`): "planer" finds "Self-Watering Planter"
                Product.objects.filter(title__trigram_word_similar=q).values("pk"),
                Product.tags.through.objects.filter(tag__slug__in=tag_slugs).values("product_id"),
            )
        )
        tagged = Tag.objects.filter(products=OuterRef("pk"), slug__in=tag_slugs)
        title_vector = SearchVector("title", config="english")
        # Rank only what matched, in tiers: a title hit over a tag hit over a description
        # hit, then by how well the title matches. Only titles are parsed per row here
        # (short); descriptions are matched through the index, never re-parsed.
        qs = qs.filter(pk__in=matches).annotate(
            title_document=title_vector,
            rank=Case(
                When(title_document=query, then=Value(3.0)),
                When(Exists(tagged), then=Value(2.0)),
                default=Value(1.0),
            )
            + SearchRank(title_vector, query),
            similarity=TrigramWordSimilarity(q, "title"),
        )
        return qs, True
    words = q.split()
    for word in words:
        qs = qs.filter(
            Q(title__icontains=word)
            | Q(description__icontains=word)
            | Q(tags__name__icontains=word)
        )
    return qs.distinct(), False


def product_browse(*, filters: BrowseFilters) -> BrowseResult:
    """Listings for the browse, category and search pages: filtered, searched, sorted.

    Top Rated keeps listings with at least SiteConfig's minimum number of reviews; when
    fewer than a page qualify it falls back to any rated listing and says so.
    """
    qs = _apply_filters(product_queryset_public(), filters)
    qs, ranked = _apply_search(qs, filters.q)
    qs = qs.annotate(rating_avg=rating_average_expression())
    sort = filters.sort if filters.sort in SORTS else ("relevance" if ranked else "new")
    result = BrowseResult(products=qs, sort=sort)
    if sort == "relevance":
        qs = qs.order_by(F("rank").desc(), F("similarity").desc(), F("published_at").desc())
    elif sort == "trending":
        qs = qs.order_by(*trending_order())
    elif sort == "top":
        minimum = site_config_get().top_rated_min_reviews
        qualified = qs.filter(rating_count__gte=minimum)
        if minimum > 1 and not _enough_top_rated(qualified, minimum):
            result.top_rated_fallback = True
            result.notices.append(
                f"Few listings have {minimum} or more reviews yet, so Top Rated also shows "
                "listings with fewer reviews."
            )
            qs = qs.filter(rating_count__gte=1)
        else:
            qs = qualified
        # Every listing here has ratings, so the average is a plain division: the same
        # expression as the PostgreSQL index `catalog_product_public_top`.
        qs = qs.annotate(top_score=TOP_SCORE).order_by(
            F("top_score").desc(), F("rating_count").desc(), NEWEST
        )
    elif sort == "price_asc":
        qs = qs.order_by("price_cents", NEWEST)
    elif sort == "price_desc":
        qs = qs.order_by("-price_cents", NEWEST)
    elif sort == "downloads":
        qs = qs.order_by("-download_count", NEWEST)
    else:
        qs = qs.order_by(F("published_at").desc(nulls_last=True), "-pk")
    result.products = qs
    return result


def product_suggestions(*, q: str, limit: int = 8) -> list[str]:
    """Titles for the search box's autocomplete: prefix matches first, then (PostgreSQL)
    close spellings."""
    q = "".join(ch for ch in q if ch.isprintable()).strip()  # NUL etc. never reach SQL
    if len(q) < 2:
        return []
    base = product_queryset_public()
    titles = list(
        base.filter(title__istartswith=q).order_by("title").values_list("title", flat=True)[:limit]
    )
    if len(titles) < limit:
        if is_postgres():
            from django.contrib.postgres.search import TrigramWordSimilarity

            more = (
                base.annotate(similarity=TrigramWordSimilarity(q, "title"))
                .filter(similarity__gt=TRIGRAM_THRESHOLD)
                .order_by("-similarity")
            )
        else:
            more = base.filter(title__icontains=q).order_by("title")
        for title in more.values_list("title", flat=True)[: limit * 2]:
            if title not in titles:
                titles.append(title)
            if len(titles) == limit:
                break
    return titles


def products_like(product: Product, *, limit: int = 6) -> list[Product]:
    """ "More like this": same category or shared tags, most shared tags first, then
    rating and recency; never the product itself. Two queries."""
    tag_ids = list(product.tags.values_list("pk", flat=True))
    qs = (
        product_queryset_public()
        .exclude(pk=product.pk)
        .filter(Q(category=product.category) | Q(tags__in=tag_ids))
        .annotate(
            shared=Count("tags", filter=Q(tags__in=tag_ids), distinct=True),
            rating_avg=rating_average_expression(),
        )
        .order_by("-shared", F("rating_avg").desc(nulls_last=True), F("published_at").desc())
    )
    return list(qs[:limit])


def cents_from_text(value: Decimal | None) -> int | None:
    return None if value is None else int((value * 100).to_integral_value())


def home_trending(*, limit: int) -> list[Product]:
    """The home page's Trending row: staff-pinned listings first (by rank), then the
    highest computed scores above zero."""
    qs = (
        product_queryset_public()
        .filter(Q(trending_override_rank__isnull=False) | Q(trending_score__gt=0))
        .annotate(rating_avg=rating_average_expression())
        .order_by(*trending_order())
    )
    return list(qs[:limit])


def home_top_rated(*, limit: int) -> list[Product]:
    """The home page's Top Rated row, by the same rule as the Top Rated sort."""
    return list(product_browse(filters=BrowseFilters(sort="top")).products[:limit])
