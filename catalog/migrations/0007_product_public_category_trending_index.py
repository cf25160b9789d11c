"""PostgreSQL-only: public listings of a category in trending order, so "more like this"
(catalog.search.products_like) reads its LIKE_CANDIDATES same-category candidates as an
ordered index scan that stops there, instead of every listing of the category
(docs/PERFORMANCE.md, "Load against the floor"). A no-op on SQLite."""

from django.db import migrations

from marketplace.migration_helpers import on_postgresql

FORWARD = [
    "CREATE INDEX IF NOT EXISTS catalog_product_public_category_trending "
    "ON catalog_product (category_id, trending_score DESC, id DESC) "
    "WHERE status = 'PUBLISHED' AND NOT is_taken_down"
]
BACKWARD = ["DROP INDEX IF EXISTS catalog_product_public_category_trending"]


class Migration(migrations.Migration):
    dependencies = [("catalog", "0006_product_slug_history_names")]

    operations = [migrations.RunPython(on_postgresql(FORWARD), on_postgresql(BACKWARD))]
