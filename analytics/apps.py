from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """Engagement events, trending, seller analytics, the Admin Ops page."""

    name = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        # The engagement signals catalog and orders send (see catalog/hooks.py).
        from analytics.services import engagement_record, product_view_record, search_miss_record
        from catalog import hooks as catalog_hooks

        catalog_hooks.register_engagement(engagement_record)
        catalog_hooks.register_product_view(product_view_record)
        catalog_hooks.register_search_miss(search_miss_record)
