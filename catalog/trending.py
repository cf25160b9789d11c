"""Trending in the catalog: the fields' ordering and the one badge rule.

The score itself (`Product.trending_score`) is computed by analytics
(`analytics.trending.trending_recompute`, which reads engagement events, paid order
lines and reviews) and written here, on the catalog's own column. Ties in the Trending
sort break by average rating, then recency. The badge: a listing is in the computed
Top N (SiteConfig) AND its score is above zero — the same rule everywhere, from
`annotate_trending_badge`.
"""

from django.core.cache import cache
from django.db.models import Case, DecimalField, ExpressionWrapper, F, When

from catalog.models import Product
from marketplace.selectors import site_config_get

TOP_IDS_CACHE_KEY = "catalog:trending:top-ids:v1"


def trending_top_ids_forget() -> None:
    """Drop the cached Top N: the scores were just recomputed."""
    cache.delete(TOP_IDS_CACHE_KEY)


def rating_average_expression() -> Case:
    """The average rating as a SQL expression (NULL when unrated), for sorting."""
    return Case(
        When(
            rating_count__gt=0,
            then=ExpressionWrapper(
                F("rating_sum") * 1.0 / F("rating_count"),
                output_field=DecimalField(max_digits=4, decimal_places=2),
            ),
        ),
        default=None,
    )


def trending_top_ids() -> frozenset[int]:
    """Ids of the computed Top N public listings with a score above zero (cached until
    the next recompute or for a minute)."""
    ids = cache.get(TOP_IDS_CACHE_KEY)
    if ids is None:
        from catalog.selectors import PUBLIC

        top_n = site_config_get().trending_top_n
        ids = frozenset(
            Product.objects.filter(PUBLIC, trending_score__gt=0)
            # the order of the partial index `catalog_product_public_trending_top`
            .order_by("-trending_score", F("published_at").desc(nulls_last=True))
            .values_list("pk", flat=True)[:top_n]
        )
        cache.set(TOP_IDS_CACHE_KEY, ids, 60)
    return ids


def annotate_trending_badge(products) -> list:
    """Set `p.trending_badge` by the one rule (computed Top N and score > 0)."""
    top = trending_top_ids()
    products = list(products)
    for product in products:
        product.trending_badge = product.pk in top and product.trending_score > 0
    return products


def trending_order() -> list:
    """Manual override first (rank 1 = first), then score, rating, recency."""
    return [
        F("trending_override_rank").asc(nulls_last=True),
        F("trending_score").desc(),
        F("rating_avg").desc(nulls_last=True),
        F("published_at").desc(nulls_last=True),
    ]


__all__ = ["annotate_trending_badge", "trending_order", "trending_top_ids_forget"]
