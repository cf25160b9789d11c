"""PostgreSQL-only indexes for discovery: pg_trgm, a trigram index on titles, a full-text
GIN index matching the title/description vector the search builds, and partial indexes on
public listings, one per browse sort, so a page is an ordered index scan that stops after
the page (docs/PERFORMANCE.md). A no-op elsewhere (SQLite has no NULLS LAST indexes)."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from marketplace.migration_helpers import on_postgresql

FORWARD = [
    "CREATE INDEX IF NOT EXISTS catalog_product_title_trgm "
    "ON catalog_product USING gin (title gin_trgm_ops)",
    # Exactly the expression catalog.search builds (SearchVector with config and weights),
    # so PostgreSQL uses this index for `document @@ query`.
    "CREATE INDEX IF NOT EXISTS catalog_product_fts ON catalog_product USING gin (("
    "setweight(to_tsvector('english'::regconfig, COALESCE(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, COALESCE(description, '')), 'C')))",
]
PUBLIC = "WHERE status = 'PUBLISHED' AND NOT is_taken_down"
SORT_INDEXES = {
    "catalog_product_public_new": "published_at DESC NULLS LAST, id DESC",
    "catalog_product_public_trending": (
        "trending_override_rank ASC NULLS LAST, trending_score DESC, published_at DESC NULLS LAST"
    ),
    "catalog_product_public_price": "price_cents, published_at DESC NULLS LAST",
    "catalog_product_public_price_desc": "price_cents DESC, published_at DESC NULLS LAST",
    "catalog_product_public_downloads": "download_count DESC, published_at DESC NULLS LAST",
}
FORWARD += [
    f"CREATE INDEX IF NOT EXISTS {name} ON catalog_product ({columns}) {PUBLIC}"
    for name, columns in SORT_INDEXES.items()
]
# Top Rated: the average as catalog.search.TOP_SCORE writes it, over rated listings.
FORWARD.append(
    "CREATE INDEX IF NOT EXISTS catalog_product_public_top ON catalog_product "
    "(((rating_sum * 1.0) / rating_count) DESC, rating_count DESC, published_at DESC NULLS LAST) "
    f"{PUBLIC} AND rating_count > 0"
)
SORT_INDEXES["catalog_product_public_top"] = ""
BACKWARD = [
    "DROP INDEX IF EXISTS catalog_product_title_trgm",
    "DROP INDEX IF EXISTS catalog_product_fts",
    *[f"DROP INDEX IF EXISTS {name}" for name in SORT_INDEXES],
]


class Migration(migrations.Migration):
    dependencies = [("analytics", "0002_searchmiss"), ("catalog", "0002_seed_categories")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(on_postgresql(FORWARD), on_postgresql(BACKWARD)),
    ]
