"""The ledgers are append-only in the database, not only by convention: on PostgreSQL a
trigger refuses UPDATE and DELETE of SellerBalanceEntry and PlatformLedgerEntry rows,
whoever sends them (the ORM, raw SQL, psql). The models refuse them on every database.
TRUNCATE (test databases being reset) is a statement-level operation and not blocked."""

from django.db import migrations

from marketplace.migration_helpers import on_postgresql

TABLES = ["payments_sellerbalanceentry", "payments_platformledgerentry"]

FORWARD = [
    """
    CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'ledger rows are append-only: %% on %% refused (post a correcting row)',
            TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END;
    $$ LANGUAGE plpgsql;
    """,
    *[
        f"""
        CREATE TRIGGER {table}_append_only
        BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
        """
        for table in TABLES
    ],
]
BACKWARD = [
    *[f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};" for table in TABLES],
    "DROP FUNCTION IF EXISTS ledger_refuse_change();",
]


class Migration(migrations.Migration):
    dependencies = [("payments", "0004_money_core_retries_refunds_platform_ledger")]

    operations = [migrations.RunPython(on_postgresql(FORWARD), on_postgresql(BACKWARD))]
