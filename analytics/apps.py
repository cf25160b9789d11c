from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """Engagement events, trending, seller analytics, the Admin Ops page."""

    name = "analytics"
    verbose_name = "Analytics"
