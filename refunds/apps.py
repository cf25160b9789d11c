from django.apps import AppConfig


class RefundsConfig(AppConfig):
    """Refund requests per order line and their allocation."""

    name = "refunds"
    verbose_name = "Refunds"
