from django.apps import AppConfig


class DownloadsConfig(AppConfig):
    """Entitlement, signed download links, counters, download events."""

    name = "downloads"
    verbose_name = "Downloads"

    def ready(self) -> None:
        # What lower apps learn from downloads, without importing it (see catalog/hooks.py).
        from catalog import hooks as catalog_hooks
        from downloads.selectors import (
            listing_metrics_downloads,
            order_line_grants_download,
            product_download_entitled,
            review_evidence_from_download,
        )
        from orders import hooks as orders_hooks

        catalog_hooks.register_download_entitlement(product_download_entitled)
        catalog_hooks.register_listing_metrics(listing_metrics_downloads)
        # After orders' (INSTALLED_APPS order): a paid line is asked first.
        catalog_hooks.register_review_evidence(review_evidence_from_download)
        orders_hooks.register_line_download_rule(order_line_grants_download)
