"""The seller's "can be paid" flag: payments keeps `User.can_be_paid` (owned by
marketplace, read by catalog and checkout) equal to its one readiness rule, `READY`."""

from django.db import transaction

from marketplace.models import User
from payments.models import SellerStripeAccount
from payments.selectors import READY


@transaction.atomic
def seller_payment_ready_refresh(*, seller_id: int) -> bool:
    """Recompute whether `seller_id` can be paid from their `SellerStripeAccount` (no
    account: not ready) and write `User.can_be_paid` only when it changed. Idempotent;
    returns the readiness."""
    ready = SellerStripeAccount.objects.filter(READY, seller_id=seller_id).exists()
    User.objects.filter(pk=seller_id).exclude(can_be_paid=ready).update(can_be_paid=ready)
    return ready
