from django.conf import settings
from django.db import models


class SellerStripeAccount(models.Model):
    """A seller's Stripe Connect Express account, mirrored from Stripe.

    Written only by payments services (onboarding, `account.updated`, sync). Readiness is
    read through `payments.selectors` so catalog and checkout share one rule.
    """

    seller = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="stripe_account"
    )
    stripe_account_id = models.CharField(max_length=255, unique=True)
    charges_enabled = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    details_submitted = models.BooleanField(default=False)
    requirements_currently_due = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.stripe_account_id} ({'ready' if self.is_ready else 'not ready'})"

    @property
    def is_ready(self) -> bool:
        return self.details_submitted and self.charges_enabled and self.payouts_enabled
