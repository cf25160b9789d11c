"""Helpers for migrations. Kept tiny and stable: migrations import them forever."""


def on_postgresql(statements: list[str]):
    """A RunPython function that executes `statements` on PostgreSQL and does nothing
    elsewhere (the embedded SQLite default has no pg_trgm, GIN or triggers in plpgsql)."""

    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run
