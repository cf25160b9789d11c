"""PostgreSQL-only search support: pg_trgm, a trigram index on titles, and a full-text
GIN index matching the title/description vector the search builds. A no-op elsewhere."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

FORWARD = [
    "CREATE INDEX IF NOT EXISTS catalog_product_title_trgm "
    "ON catalog_product USING gin (title gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS catalog_product_fts "
    "ON catalog_product USING gin ((setweight(to_tsvector('english', title), 'A') || "
    "setweight(to_tsvector('english', description), 'C')))",
]
BACKWARD = [
    "DROP INDEX IF EXISTS catalog_product_title_trgm",
    "DROP INDEX IF EXISTS catalog_product_fts",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("analytics", "0002_searchmiss"), ("catalog", "0002_seed_categories")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD)),
    ]
