"""Demo data for `seed_demo`: a ready Stripe account for a demo seller."""

from marketplace.models import User
from payments.models import SellerStripeAccount
from payments.readiness import seller_payment_ready_refresh
from payments.simulator import SimulatedAccount, simulator_enabled


def seller_stripe_account_demo_ready(seller: User) -> None:
    """Give `seller` a ready Express account — on the simulator's "Stripe" too, so
    transfers to it go through and a sync keeps it ready — and the "can be paid" flag
    that goes with it. Idempotent."""
    account_id = f"acct_demo_{seller.pk:06d}"
    if simulator_enabled():
        SimulatedAccount.objects.update_or_create(
            id=account_id,
            defaults={
                "idempotency_key": f"demo-account-{seller.pk}",
                "seller_id": seller.pk,
                "email": seller.email,
                "charges_enabled": True,
                "payouts_enabled": True,
                "details_submitted": True,
                "requirements_due": [],
                "deauthorized": False,
            },
        )
    SellerStripeAccount.objects.update_or_create(
        seller=seller,
        defaults={
            "stripe_account_id": account_id,
            "charges_enabled": True,
            "payouts_enabled": True,
            "details_submitted": True,
            "disconnected_at": None,
            "disconnect_reason": "",
        },
    )
    seller_payment_ready_refresh(seller_id=seller.pk)
