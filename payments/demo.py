"""Demo data for `seed_demo`: a ready Stripe account for a demo seller."""

from marketplace.models import User
from payments.models import SellerStripeAccount
from payments.readiness import seller_payment_ready_refresh


def seller_stripe_account_demo_ready(seller: User) -> None:
    """Give `seller` a ready (simulated) Express account and the "can be paid" flag
    that goes with it. Idempotent."""
    SellerStripeAccount.objects.update_or_create(
        seller=seller,
        defaults={
            "stripe_account_id": f"acct_demo_{seller.pk:06d}",
            "charges_enabled": True,
            "payouts_enabled": True,
            "details_submitted": True,
        },
    )
    seller_payment_ready_refresh(seller_id=seller.pk)
