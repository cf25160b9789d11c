from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from marketplace.selectors import seller_profile_for_user
from payments.models import SellerStripeAccount


def _lookup(request) -> tuple[bool, SellerStripeAccount | None]:
    """(has a shop, their connected account or None)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or seller_profile_for_user(user) is None:
        return False, None
    return True, SellerStripeAccount.objects.filter(seller=user).first()


def connect_banner(*, is_seller: bool, account: SellerStripeAccount | None) -> dict | None:
    """What the payouts banner says to a seller who cannot be paid yet; None otherwise."""
    if not is_seller or (account is not None and account.is_ready):
        return None
    url = reverse("payments:connect")
    if account is None:
        return {
            "message": "Set up payouts with Stripe so buyers can pay for your listings.",
            "action_url": url,
            "action_label": "Set up payouts",
        }
    if account.details_submitted:
        return {
            "message": "Stripe is reviewing your payout details. Buyers can pay for your "
            "listings once that is done.",
            "action_url": url,
            "action_label": "Check status",
        }
    return {
        "message": "Finish setting up payouts with Stripe so buyers can pay for your listings.",
        "action_url": url,
        "action_label": "Continue setup",
    }


def stripe_status(request) -> dict:
    """`seller_stripe`: the seller's SellerStripeAccount or None. `seller_payments_banner`:
    {message, action_url, action_label} while a seller cannot be paid yet, else None.

    Lazy: nothing is queried unless a template reads one of them, and both share one
    lookup. Only users with a shop get an account or a banner.
    """
    cache: dict = {}

    def lookup() -> tuple[bool, SellerStripeAccount | None]:
        if "value" not in cache:
            cache["value"] = _lookup(request)
        return cache["value"]

    return {
        "seller_stripe": SimpleLazyObject(lambda: lookup()[1]),
        "seller_payments_banner": SimpleLazyObject(
            lambda: connect_banner(is_seller=lookup()[0], account=lookup()[1])
        ),
    }
