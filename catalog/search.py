"""Browse, search and "more like this": the discovery reads.

Search on PostgreSQL is full-text (title weighted over tags over description, ranked) with
trigram similarity on the title for typos; elsewhere (SQLite, the embedded default) it is a
case-insensitive match on title, tags and description, where each query word also matches
the close spellings found in a small cached vocabulary of title words and tag names
(difflib, bounded: "planer" finds "Planter"). Filters and sorts are the same on both. Every
listing query here stays a constant number of SQL statements per page.

A search that finds nothing offers "Did you mean …" from the same vocabulary (both
databases), and only when the corrected search finds something.
"""

import difflib
import hashlib
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
)
from django.utils.text import slugify

from catalog.models import Category, Product, Tag
from catalog.selectors import PUBLIC, product_queryset_public
from catalog.trending import rating_average_expression, trending_order
from marketplace.pagination import BROWSE_COUNT_CAP
from marketplace.selectors import site_config_get

SORTS = {
    "new": "Newest",
    "trending": "Trending",
    "top": "Top rated",
    "price_asc": "Price: low to high",
    "price_desc": "Price: high to low",
    "downloads": "Most downloaded",
}
# Sort keys written exactly as the partial indexes in analytics/migrations/0003 expect.
NEWEST = F("published_at").desc(nulls_last=True)
TOP_SCORE = ExpressionWrapper(F("rating_sum") * 1.0 / F("rating_count"), output_field=FloatField())
TOP_RATED_PAGE = 24
SEARCH_RESULT_CAP = 1000  # search totals are counted this far ("1,000+ listings")
SEARCH_QUERY_MAX_LENGTH = 200  # longer searches are cut here, and the page says so

# The spelling vocabulary: title words of the newest public listings and the tags in use,
# each capped, cached for a few minutes. It is what typo matching (SQLite) and "Did you
# mean" (both databases) compare query words against.
VOCABULARY_LISTINGS = 3000
VOCABULARY_TAGS = 3000
VOCABULARY_TTL = 600
VOCABULARY_KEY = "catalog:search-vocabulary"
CLOSE_WORD_MIN_LENGTH = 4  # shorter words have too many neighbours to guess from
CLOSE_WORD_CUTOFF = 0.8  # difflib ratio for matching a typo ("planer" ~ "planter": 0.92)
DID_YOU_MEAN_CUTOFF = 0.7  # looser: only offered as a link, never applied silently
CLOSE_WORDS_PER_QUERY = 5  # at most this many query words are spell-checked


def _enough_top_rated(qualified: QuerySet, minimum: int) -> bool:
    """Whether a full page qualifies for Top Rated (cached a minute; it changes slowly)."""
    # A stable digest: Python's hash() of a str differs per process, so web workers
    # would never share the entry.
    digest = hashlib.sha1(str(qualified.query).encode(), usedforsecurity=False).hexdigest()
    key = f"catalog:top-rated-enough:{minimum}:{digest}"
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
    count_cap: int = BROWSE_COUNT_CAP  # totals are counted this far ("10,000+ listings")


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


def _tag_slugs(q: str) -> list[str]:
    return [slug for slug in (slugify(word) for word in q.split()) if slug]


_WORD = re.compile(r"[^\W_]+")


def search_vocabulary() -> list[str]:
    """The distinct lower-case words of public titles and tag names (bounded, cached)."""
    words = cache.get(VOCABULARY_KEY)
    if words is None:
        public = Product.objects.filter(PUBLIC)
        titles = public.order_by(NEWEST, "-pk").values_list("title", flat=True)
        tags = (
            Tag.objects.filter(
                Exists(
                    Product.tags.through.objects.filter(
                        tag_id=OuterRef("pk"), product__in=public.values("pk")
                    )
                )
            )
            .order_by("name")
            .values_list("name", flat=True)
        )
        found: set[str] = set()
        for text in [*titles[:VOCABULARY_LISTINGS], *tags[:VOCABULARY_TAGS]]:
            found.update(w for w in _WORD.findall(text.lower()) if len(w) >= 3)
        words = sorted(found)
        cache.set(VOCABULARY_KEY, words, VOCABULARY_TTL)
    return words


def close_words(word: str, *, cutoff: float = CLOSE_WORD_CUTOFF, n: int = 3) -> list[str]:
    """Vocabulary words spelled close to `word` (the word itself if present), closest
    first. difflib's ratio over a vocabulary of a few thousand words: milliseconds."""
    word = word.lower()
    if len(word) < CLOSE_WORD_MIN_LENGTH:
        return []
    return difflib.get_close_matches(word, search_vocabulary(), n=n, cutoff=cutoff)


def _text_search(matching: QuerySet, q: str) -> QuerySet:
    """Any listing whose title, tags or description holds every word, or for the first
    few words a close spelling of it in a title or tag (SQLite fallback)."""
    for position, word in enumerate(q.split()):
        hit = Q(title__icontains=word) | Q(description__icontains=word)
        hit |= Q(tags__name__icontains=word)
        if position < CLOSE_WORDS_PER_QUERY:
            for close in close_words(word):
                if close != word.lower():
                    hit |= Q(title__icontains=close) | Q(tags__name__icontains=close)
        matching = matching.filter(hit)
    return matching.distinct()


def search_did_you_mean(*, filters: "BrowseFilters") -> str | None:
    """A corrected query for a search that found nothing: each of the first few words
    that is not in the vocabulary replaced by its closest spelling. Offered only when it
    differs from the query and, with the same filters, finds something."""
    words = filters.q.lower().split()
    if not words:
        return None
    vocabulary = set(search_vocabulary())
    fixed = []
    for position, word in enumerate(words):
        if position < CLOSE_WORDS_PER_QUERY and word not in vocabulary:
            closest = close_words(word, cutoff=DID_YOU_MEAN_CUTOFF, n=1)
            word = closest[0] if closest else word
        fixed.append(word)
    suggestion = " ".join(fixed)
    if suggestion == " ".join(words):
        return None
    found = product_browse(filters=replace(filters, q=suggestion, sort="")).products
    if isinstance(found, RankedSearch):
        return suggestion if found.count_up_to(1) else None
    return suggestion if found.exists() else None


class RankedSearch:
    """PostgreSQL search results, fetched one page at a time (a Paginator's object_list).

    Relevance comes in tiers, strongest first; a listing appears once, in its strongest:
      1. every query word in the title, ranked by `ts_rank` on the stored title vector;
      2. a tag named by a query word;
      3. a title with a close spelling (trigram word similarity: "dragn", "planer");
      4. the words anywhere in title + description.
    Ties go to the newest listing. With an explicit sort (price, newest, ...) the same
    matches are ordered by that sort instead.

    Each tier is its own index-driven query that stops at the rows the page needs, so a
    page costs about the same whether 50 or 90,000 listings match (docs/PERFORMANCE.md);
    CappedCountPaginator counts the total up to SEARCH_RESULT_CAP ("1,000+"). Every read is
    bounded: at most five statements for a page, two for the count.
    """

    def __init__(self, *, matching: QuerySet, cards: QuerySet, q: str, order_by: list | None):
        from django.contrib.postgres.search import SearchQuery

        self.matching = matching  # filtered public listings, no card columns
        self.cards = cards  # the same listings as cards (select_related, annotations)
        self.q = q
        self.order_by = order_by  # None: relevance
        self.tsquery = SearchQuery(q, search_type="websearch", config="english")
        self.title_hit = Q(title_document=self.tsquery)
        self.tagged = Exists(
            Product.tags.through.objects.filter(
                product_id=OuterRef("pk"), tag__slug__in=_tag_slugs(q)
            )
        )
        # `%>`: a word of the title is close to the query (pg_trgm.word_similarity_threshold)
        self.similar = Q(title__trigram_word_similar=q)
        self.text_hit = Q(search_document=self.tsquery)
        self._many: bool | None = None  # more matches than SEARCH_RESULT_CAP

    # -- what marketplace.pagination.CappedCountPaginator asks -------------------------
    def count_identity(self) -> str:
        """The query and every filter, for caching the total."""
        return str(self.matching.filter(self.text_hit | self.similar).query)

    def count_up_to(self, limit: int) -> int:
        """Matches, counted up to `limit`. Each index's matches are capped, then their
        distinct union counted; close spellings, the dearest to find, only when the exact
        words and tags leave room under the limit. One statement, or two."""
        total = self._union_count([self.text_hit, self.tagged], limit)
        if total < limit:
            total = self._union_count([self.text_hit, self.tagged, self.similar], limit)
        self._many = total > SEARCH_RESULT_CAP
        return total

    def _union_count(self, hits: list, limit: int) -> int:
        ids = [self.matching.filter(hit).order_by().values("pk")[:limit] for hit in hits]
        return min(ids[0].union(*ids[1:]).count(), limit)

    def __getitem__(self, page: slice) -> list[Product]:
        if not isinstance(page, slice) or page.step is not None:
            raise TypeError("RankedSearch is read a page (a slice) at a time")
        start, stop = page.start or 0, page.stop
        if stop <= start:
            return []
        if self.order_by is None:
            ids = self._ranked_ids(stop)[start:stop]
        else:
            ids = self._sorted_ids(start, stop)
        cards = {p.pk: p for p in self.cards.filter(pk__in=ids)}
        return [cards[pk] for pk in ids if pk in cards]

    # -- reads ------------------------------------------------------------------------
    def _tiers(self) -> list[QuerySet]:
        from django.contrib.postgres.search import SearchRank

        m = self.matching
        return [
            m.filter(self.title_hit)
            .annotate(score=SearchRank(F("title_document"), self.tsquery))
            .order_by("-score", NEWEST, "-pk"),
            m.filter(self.tagged).exclude(self.title_hit).order_by(NEWEST, "-pk"),
            # Newest first, not closest first: scoring every close title means reading
            # thousands of rows, while walking the recency index stops after a page.
            m.filter(self.similar)
            .exclude(self.title_hit)
            .exclude(self.tagged)
            .order_by(NEWEST, "-pk"),
            m.filter(self.text_hit)
            .exclude(self.title_hit)
            .exclude(self.tagged)
            .exclude(self.similar)
            .order_by(NEWEST, "-pk"),
        ]

    def _ranked_ids(self, need: int) -> list[int]:
        """The first `need` ids in relevance order: each tier in turn, only as deep as
        the page needs; a tier that falls short is exhausted, so the next one follows."""
        ids: list[int] = []
        for tier in self._tiers():
            ids += tier.values_list("pk", flat=True)[: need - len(ids)]
            if len(ids) >= need:
                break
        return ids

    def _sorted_ids(self, start: int, stop: int) -> list[int]:
        matched = self.text_hit | self.similar | Q(self.tagged)
        if self._many is None:  # the paginator had the total cached
            self.count_up_to(SEARCH_RESULT_CAP + 1)
        if self._many:
            # Many matches: walking the sort's index and testing each row (stored vectors,
            # no parsing) finds a page within a few rows.
            rows = self.matching.filter(matched)
        else:
            # Few matches (the count saw them all): sort exactly those, found by index.
            rows = self.matching.filter(
                Q(pk__in=self.matching.filter(self.text_hit).values("pk"))
                | Q(pk__in=self.matching.filter(self.similar).values("pk"))
                | Q(pk__in=self.matching.filter(self.tagged).values("pk"))
            )
        rows = rows.annotate(rating_avg=rating_average_expression())
        return list(rows.order_by(*self.order_by).values_list("pk", flat=True)[start:stop])


def _order(sort: str, qs: QuerySet, result: "BrowseResult") -> tuple[QuerySet, list]:
    """The ORDER BY for a browse sort (not relevance), and `qs` narrowed as Top Rated needs."""
    if sort == "trending":
        return qs, trending_order()
    if sort == "top":
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
        qs = qs.annotate(top_score=TOP_SCORE)
        return qs, [F("top_score").desc(), F("rating_count").desc(), NEWEST]
    if sort == "price_asc":
        return qs, ["price_cents", NEWEST]
    if sort == "price_desc":
        return qs, ["-price_cents", NEWEST]
    if sort == "downloads":
        return qs, ["-download_count", NEWEST]
    return qs, [NEWEST, "-pk"]


def product_browse(*, filters: BrowseFilters) -> BrowseResult:
    """Listings for the browse, category and search pages: filtered, searched, sorted.

    `result.products` is a QuerySet, or on PostgreSQL with a query a `RankedSearch`; both
    paginate. Top Rated keeps listings with at least SiteConfig's minimum number of
    reviews; when fewer than a page qualify it falls back to any rated listing and says so.
    """
    q = filters.q
    sort = filters.sort if filters.sort in SORTS else ("relevance" if q else "new")
    result = BrowseResult(products=Product.objects.none(), sort=sort)
    if q and is_postgres():
        matching = _apply_filters(Product.objects.filter(PUBLIC), filters)
        order_by = None
        if sort != "relevance":
            matching, order_by = _order(sort, matching, result)
        cards = product_queryset_public().annotate(rating_avg=rating_average_expression())
        result.products = RankedSearch(matching=matching, cards=cards, q=q, order_by=order_by)
        result.count_cap = SEARCH_RESULT_CAP
        return result
    qs = _apply_filters(product_queryset_public(), filters)
    if q:
        qs = _text_search(qs, q)
        if sort == "relevance":
            sort = result.sort = "new"  # SQLite has no ranking: newest first
    qs, order_by = _order(sort, qs, result)
    result.products = qs.annotate(rating_avg=rating_average_expression()).order_by(*order_by)
    return result


def product_suggestions(*, q: str, limit: int = 8) -> list[str]:
    """Titles for the search box's autocomplete: titles starting with `q`, then (PostgreSQL)
    titles with a word close to it; the most popular first within each.

    Both reads are index-driven (the upper-cased title prefix index and the title trigram
    index, catalog/migrations/0004): two statements at most."""
    q = "".join(ch for ch in q if ch.isprintable()).strip()  # NUL etc. never reach SQL
    if len(q) < 2:
        return []
    base = Product.objects.filter(PUBLIC).order_by("-trending_score", "title")
    titles = list(base.filter(title__istartswith=q).values_list("title", flat=True)[:limit])
    if len(titles) < limit:
        if is_postgres():
            # `%>`: a word of the title is close to q ("planer" finds "Planter Box")
            more = base.filter(title__trigram_word_similar=q)
        else:
            more = base.filter(title__icontains=q)
        for title in more.values_list("title", flat=True)[: limit * 2]:
            if title not in titles:
                titles.append(title)
            if len(titles) == limit:
                break
    return titles


# "More like this" scores at most this many candidates from each side (same category,
# shared tag), the most trending first, so its cost stays flat as a category grows.
LIKE_CANDIDATES = 200


def products_like(product: Product, *, limit: int = 6) -> list[Product]:
    """ "More like this": same category or shared tags, most shared tags first, then
    rating and recency; never the product itself. Two queries.

    Bounded: only the LIKE_CANDIDATES most trending listings of the category and the
    LIKE_CANDIDATES most trending listings sharing a tag are grouped and scored (one
    statement, the candidates as LIMITed subqueries), not every listing of the category.
    """
    tag_ids = list(product.tags.values_list("pk", flat=True))
    public = product_queryset_public().exclude(pk=product.pk)
    by_trending = (F("trending_score").desc(), F("pk").desc())
    candidates = Q(
        pk__in=public.filter(category_id=product.category_id)
        .order_by(*by_trending)
        .values("pk")[:LIKE_CANDIDATES]
    )
    if tag_ids:
        candidates |= Q(
            pk__in=public.filter(tags__in=tag_ids)
            .order_by(*by_trending)
            .values("pk")[:LIKE_CANDIDATES]
        )
    qs = (
        public.filter(candidates)
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
    highest computed scores above zero. A printed item with none in stock is left out of
    this showcase row (browse still lists it, marked "Out of stock" on its card)."""
    qs = (
        product_queryset_public()
        .filter(Q(trending_override_rank__isnull=False) | Q(trending_score__gt=0))
        .exclude(kind=Product.Kind.PHYSICAL, stock_quantity__lt=1)
        .annotate(rating_avg=rating_average_expression())
        .order_by(*trending_order())
    )
    return list(qs[:limit])


def home_new(*, limit: int) -> list[Product]:
    """The home page's New Arrivals row, by the same rule as the Newest sort."""
    return list(product_browse(filters=BrowseFilters(sort="new")).products[:limit])


def home_top_rated(*, limit: int) -> tuple[list[Product], list[str]]:
    """The home page's Top Rated row, by the same rule as the Top Rated sort, and the
    notices browse shows with it (the fallback banner when few listings qualify)."""
    result = product_browse(filters=BrowseFilters(sort="top"))
    return list(result.products[:limit]), result.notices
