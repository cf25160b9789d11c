from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """The Stripe gateway, Connect onboarding, webhooks, transfers, the seller ledger."""

    name = "payments"
    verbose_name = "Payments"
