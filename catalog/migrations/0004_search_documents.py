"""Stored search documents for PostgreSQL search (docs/PERFORMANCE.md, "Search").

`title_document` and `search_document` are filled by a trigger whenever a listing's title or
description is written (or anyone tries to write the documents themselves), so no code path
can leave them stale. GIN indexes on them (partial: published, not taken down) serve the
search tiers; a prefix index on the upper-cased title serves autocomplete; a narrow covering
index serves filtered counts; another the trending Top N. The expression
index they replace (analytics 0003, `catalog_product_fts`) parsed descriptions at query time
whenever PostgreSQL walked a sort index instead. A no-op elsewhere (SQLite keeps NULLs).
"""

import django.contrib.postgres.search
from django.db import migrations

from marketplace.migration_helpers import on_postgresql

PUBLIC = "WHERE status = 'PUBLISHED' AND NOT is_taken_down"
FORWARD = [
    """
    CREATE OR REPLACE FUNCTION catalog_product_search_documents() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        NEW.title_document := to_tsvector('english', COALESCE(NEW.title, ''));
        NEW.search_document := setweight(NEW.title_document, 'A')
            || setweight(to_tsvector('english', COALESCE(NEW.description, '')), 'C');
        RETURN NEW;
    END
    $$
    """,
    # Django's full save() writes every column, the documents too (as NULL): listing them
    # here recomputes them instead of letting that NULL through.
    "CREATE TRIGGER catalog_product_search_documents "
    "BEFORE INSERT OR UPDATE OF title, description, title_document, search_document "
    "ON catalog_product FOR EACH ROW EXECUTE FUNCTION catalog_product_search_documents()",
    "UPDATE catalog_product SET title_document = NULL",  # fills existing rows via the trigger
    "DROP INDEX IF EXISTS catalog_product_fts",
    "CREATE INDEX IF NOT EXISTS catalog_product_title_document "
    f"ON catalog_product USING gin (title_document) {PUBLIC}",
    "CREATE INDEX IF NOT EXISTS catalog_product_search_document "
    f"ON catalog_product USING gin (search_document) {PUBLIC}",
    # Autocomplete: `title__istartswith` is UPPER(title) LIKE 'PLAN%', a range on this index.
    "CREATE INDEX IF NOT EXISTS catalog_product_title_prefix "
    f"ON catalog_product ((UPPER(title::text)) text_pattern_ops) {PUBLIC}",
    # Counting a filtered browse page (marketplace.pagination) reads this narrow index
    # instead of the wide rows: an index-only scan over every filter's column.
    "CREATE INDEX IF NOT EXISTS catalog_product_public_filters ON catalog_product (category_id) "
    "INCLUDE (id, seller_id, kind, price_cents, rating_count, rating_sum, license, file_formats) "
    f"{PUBLIC}",
    # The badge rule's computed Top N (catalog.trending.trending_top_ids), read on every
    # listing page whose cached copy has expired: a few index rows instead of a sort.
    "CREATE INDEX IF NOT EXISTS catalog_product_public_trending_top ON catalog_product "
    f"(trending_score DESC, published_at DESC NULLS LAST) {PUBLIC} AND trending_score > 0",
]
BACKWARD = [
    "DROP INDEX IF EXISTS catalog_product_public_filters",
    "DROP INDEX IF EXISTS catalog_product_public_trending_top",
    "DROP INDEX IF EXISTS catalog_product_title_prefix",
    "DROP INDEX IF EXISTS catalog_product_search_document",
    "DROP INDEX IF EXISTS catalog_product_title_document",
    "DROP TRIGGER IF EXISTS catalog_product_search_documents ON catalog_product",
    "DROP FUNCTION IF EXISTS catalog_product_search_documents()",
    "CREATE INDEX IF NOT EXISTS catalog_product_fts ON catalog_product USING gin (("
    "setweight(to_tsvector('english'::regconfig, COALESCE(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, COALESCE(description, '')), 'C')))",
]


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_reviews_favorites"),
        ("analytics", "0003_search_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="search_document",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="product",
            name="title_document",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(on_postgresql(FORWARD), on_postgresql(BACKWARD)),
    ]
