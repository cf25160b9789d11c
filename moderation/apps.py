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

        # Staff-only badges of open reports on the product page.
        from moderation.selectors import product_open_reports

        catalog_hooks.register_open_reports(product_open_reports)

        # The same counts for apps below moderation (messaging's threads, Q&A).
        from marketplace import hooks as marketplace_hooks
        from moderation.selectors import open_report_counts

        marketplace_hooks.register_open_report_counts(open_report_counts)

        # Every layer records staff actions through marketplace.audit.
        from marketplace import audit
        from moderation.audit import staff_action_record

        audit.register_staff_action_recorder(staff_action_record)

        # The suspended page links to the statement of the active suspension.
        from moderation.suspensions import suspension_statement_url

        audit.register_suspension_statement_finder(suspension_statement_url)
