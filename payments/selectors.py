from django.db.models import Exists, OuterRef, Q

from payments.models import SellerStripeAccount

# The one definition of "this seller can be paid", as a filter usable in annotations.
READY = Q(details_submitted=True, charges_enabled=True, payouts_enabled=True)


def seller_ready_subquery(seller_ref: str = "seller_id") -> Exists:
    """`Exists(...)` that is true when the seller at `seller_ref` is ready for payments.

    Annotate product querysets with it so a page of cards needs no per-card query.
    """
    return Exists(SellerStripeAccount.objects.filter(READY, seller_id=OuterRef(seller_ref)))


def seller_is_payment_ready(*, seller_id: int) -> bool:
    return SellerStripeAccount.objects.filter(READY, seller_id=seller_id).exists()
