from django.apps import AppConfig


class ModerationConfig(AppConfig):
    """Reports, the staff queue, suspensions and the staff audit log."""

    name = "moderation"
    verbose_name = "Moderation"

    def ready(self) -> None:
        # The reviews section's report form and state (see catalog/hooks.py).
        from catalog import hooks as catalog_hooks
        from moderation.selectors import review_reports_for_product

        catalog_hooks.register_review_reports(review_reports_for_product)

        # Every layer records staff actions through marketplace.audit.
        from marketplace import audit
        from moderation.audit import staff_action_record

        audit.register_staff_action_recorder(staff_action_record)
