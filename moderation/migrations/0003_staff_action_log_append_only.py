"""The staff audit trail is append-only in the database too: on PostgreSQL a trigger
refuses DELETE of StaffActionLog rows and any UPDATE except stamping `appealed_at` once
and emptying `actor_id`/`subject_user_id` (ON DELETE SET NULL of a deleted account).
The model refuses the same on every database (moderation.models.StaffActionLogQuerySet)."""

from django.db import migrations

from marketplace.migration_helpers import on_postgresql

TABLE = "moderation_staffactionlog"

FORWARD = [
    """
    CREATE OR REPLACE FUNCTION staff_action_log_refuse_change() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'staff action log rows are append-only: DELETE refused'
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF NEW.action IS DISTINCT FROM OLD.action
           OR NEW.target_type IS DISTINCT FROM OLD.target_type
           OR NEW.target_id IS DISTINCT FROM OLD.target_id
           OR NEW.target_repr IS DISTINCT FROM OLD.target_repr
           OR NEW.reason IS DISTINCT FROM OLD.reason
           OR NEW.before::text IS DISTINCT FROM OLD.before::text
           OR NEW.after::text IS DISTINCT FROM OLD.after::text
           OR NEW.request_id IS DISTINCT FROM OLD.request_id
           OR NEW.created_at IS DISTINCT FROM OLD.created_at
           OR NEW.appealable IS DISTINCT FROM OLD.appealable
           OR (NEW.actor_id IS DISTINCT FROM OLD.actor_id AND NEW.actor_id IS NOT NULL)
           OR (NEW.subject_user_id IS DISTINCT FROM OLD.subject_user_id
               AND NEW.subject_user_id IS NOT NULL)
           OR (OLD.appealed_at IS NOT NULL AND NEW.appealed_at IS DISTINCT FROM OLD.appealed_at)
        THEN
            RAISE EXCEPTION 'staff action log rows are append-only: UPDATE refused'
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;
    """,
    f"""
    CREATE TRIGGER {TABLE}_append_only
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION staff_action_log_refuse_change();
    """,
]
BACKWARD = [
    f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE};",
    "DROP FUNCTION IF EXISTS staff_action_log_refuse_change();",
]


class Migration(migrations.Migration):
    dependencies = [("moderation", "0002_suspension_audit_notifications")]

    operations = [migrations.RunPython(on_postgresql(FORWARD), on_postgresql(BACKWARD))]
