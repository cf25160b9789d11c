"""Account deletion: a person erases their own account (the rules: docs/DECISIONS.md,
2026-12-01 "Account deletion", and the Privacy Policy).

- `account_deletion_blockers(user)`: every reason the account cannot be deleted yet,
  each a sentence the person can act on (empty: it can be deleted).
- `account_delete(user)`: erases or anonymises personal data and keeps what the ledger and
  the law need, in one transaction, and writes an `AccountDeletion` record.
"""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import AccountDeletion, DataExport
from catalog.models import Favorite, Product, WishlistItem
from catalog.services import product_archive
from marketplace.exceptions import ApplicationError
from marketplace.models import SellerProfile, User
from marketplace.observability import current_request_id
from messaging.models import Notification
from orders.models import Order, OrderItem
from payments.models import Dispute
from payments.selectors import payout_totals_for_seller
from refunds.models import RefundRequest

OPEN_REFUND_STATUSES = (
    RefundRequest.Status.REQUESTED,
    RefundRequest.Status.APPROVED,
    RefundRequest.Status.FAILED,
)
OPEN_ORDER_STATUSES = (Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED)
# Order fields erased from a deleted buyer's orders. Kept: the country, region and postal
# code (where the sale was taxed), amounts and what was bought.
ORDER_FIELDS_ERASED = ("ship_name", "ship_line1", "ship_line2", "ship_city", "ship_phone")


class AccountDeletionBlocked(ApplicationError):
    """The account cannot be deleted yet; `reasons` lists why, one sentence each."""

    def __init__(self, reasons: list[str]):
        super().__init__("Your account cannot be deleted yet.", extra={"reasons": reasons})
        self.reasons = reasons


def deleted_email(user_id: int) -> str:
    return f"deleted-{user_id}@invalid"


def _open_line_q() -> Q:
    """A paid line not yet fulfilled (preparing or on its way) and not fully refunded."""
    return (
        Q(order__status__in=OPEN_ORDER_STATUSES)
        & Q(
            fulfillment_status__in=(
                OrderItem.Fulfillment.UNFULFILLED,
                OrderItem.Fulfillment.SHIPPED,
            )
        )
        & Q(
            refunded_cents__lt=F("subtotal_cents")
            + F("shipping_allocated_cents")
            + F("tax_allocated_cents")
        )
    )


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def account_deletion_blockers(user: User) -> list[str]:
    """Why `user` must wait before deleting their account, one sentence per reason:
    as a seller, paid lines not yet delivered, money not settled, open disputes or refund
    requests on their sales; as a buyer, printed items still on their way and their own
    open refund requests or disputes. Empty when nothing stands in the way."""
    reasons: list[str] = []
    sold = OrderItem.objects.filter(seller=user)
    open_sales = sold.filter(_open_line_q())
    if n := open_sales.count():
        orders = sorted(set(open_sales.values_list("order_id", flat=True)))
        reasons.append(
            f"You have {_plural(n, 'sold item', 'sold items')} not yet delivered (orders "
            + ", ".join(f"#{pk}" for pk in orders[:10])
            + "). Ship them and wait for delivery, or refund them."
        )
    for currency, totals in sorted(payout_totals_for_seller(seller=user).items()):
        pending = totals["pending"]
        if pending > 0:
            reasons.append(
                f"We still owe you {pending / 100:.2f} {currency.upper()}: it must be paid "
                "out to your Stripe account first."
            )
        elif pending < 0:
            reasons.append(
                f"Your balance is {-pending / 100:.2f} {currency.upper()} short (refunds or "
                "disputes after a payout): it must be settled first."
            )
    refunds_on_sales = RefundRequest.objects.filter(
        order_item__seller=user, status__in=OPEN_REFUND_STATUSES
    ).count()
    if refunds_on_sales:
        reasons.append(
            f"{_plural(refunds_on_sales, 'refund request', 'refund requests')} on your sales "
            f"{'is' if refunds_on_sales == 1 else 'are'} still open: decide "
            f"{'it' if refunds_on_sales == 1 else 'them'} first."
        )
    disputes_on_sales = (
        Dispute.objects.filter(status__in=Dispute.OPEN, order__items__seller=user)
        .distinct()
        .count()
    )
    if disputes_on_sales:
        reasons.append(
            f"{_plural(disputes_on_sales, 'card dispute', 'card disputes')} on your sales "
            f"{'is' if disputes_on_sales == 1 else 'are'} still open with the bank."
        )
    # As a buyer.
    on_the_way = (
        OrderItem.objects.filter(order__buyer=user, kind=Product.Kind.PHYSICAL)
        .filter(_open_line_q())
        .count()
    )
    if on_the_way:
        reasons.append(
            f"{_plural(on_the_way, 'printed item you bought is', 'printed items you bought are')}"
            " not delivered yet: the seller needs your address until it arrives."
        )
    my_refunds = RefundRequest.objects.filter(
        order_item__order__buyer=user, status__in=OPEN_REFUND_STATUSES
    ).count()
    if my_refunds:
        reasons.append(
            f"You have {_plural(my_refunds, 'refund request', 'refund requests')} still open."
        )
    my_disputes = Dispute.objects.filter(status__in=Dispute.OPEN, order__buyer=user).count()
    if my_disputes:
        reasons.append(
            f"You have {_plural(my_disputes, 'card dispute', 'card disputes')} still open."
        )
    return reasons


def account_delete(*, user: User) -> AccountDeletion:
    """Delete `user`'s account for good, or raise `AccountDeletionBlocked` with every reason.

    Guarantees, in one transaction:
    - the user row stays, anonymised: email `deleted-<id>@invalid`, names and picture
      erased, no usable password, inactive, `deleted_at` set; their email addresses,
      two-factor devices, notifications, favorites, wishlist and data exports are deleted;
    - orders, order lines, ledger rows, transfers, refunds, disputes and consent records are
      untouched and still point at the user (the ledger sums do not move); on their orders
      as a buyer the email becomes the anonymised one and the street address, name and
      phone are erased (country, region and postal code stay: where the sale was taxed);
    - reviews and messages stay, shown under "Deleted user";
    - as a seller, every published listing is archived (gone from the public) and the
      shop anonymised; buyers keep their downloads (entitlement follows their orders).
    """
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.deleted_at is not None:
            raise ApplicationError("This account is already deleted.")
        reasons = account_deletion_blockers(user)
        if reasons:
            raise AccountDeletionBlocked(reasons)

        taken_down = 0
        for product in Product.objects.filter(seller=user, status=Product.Status.PUBLISHED):
            product_archive(product=product)
            taken_down += 1
        profile = SellerProfile.objects.filter(user=user).first()
        if profile is not None:
            if profile.avatar:
                profile.avatar.delete(save=False)
            profile.display_name = "Closed shop"
            profile.slug = f"closed-shop-{user.pk}"
            profile.bio = ""
            profile.avatar = ""
            profile.save(update_fields=["display_name", "slug", "bio", "avatar", "updated_at"])

        orders = Order.objects.filter(buyer=user)
        orders_kept = orders.count()
        orders.update(email=deleted_email(user.pk), **dict.fromkeys(ORDER_FIELDS_ERASED, ""))

        for export in DataExport.objects.filter(user=user):
            _delete_export_file(export)
        DataExport.objects.filter(user=user).delete()
        Favorite.objects.filter(user=user).delete()
        WishlistItem.objects.filter(user=user).delete()
        Notification.objects.filter(user=user).delete()
        EmailAddress.objects.filter(user=user).delete()
        Authenticator.objects.filter(user=user).delete()

        if user.avatar:
            user.avatar.delete(save=False)
        user.email = deleted_email(user.pk)
        user.name = ""
        user.display_name = ""
        user.first_name = ""
        user.last_name = ""
        user.avatar = ""
        user.ship_to_country = ""
        user.is_active = False
        user.deleted_at = timezone.now()
        user.set_unusable_password()
        user.save()

        return AccountDeletion.objects.create(
            user=user,
            was_seller=profile is not None,
            listings_taken_down=taken_down,
            request_id=current_request_id() or "",
            summary={
                "orders_kept_anonymised": orders_kept,
                "reviews_kept": user.reviews.count(),
                "listings_archived": taken_down,
            },
        )


def _delete_export_file(export: DataExport) -> None:
    from accounts.export import export_storage

    if export.file_name:
        name = export.file_name
        transaction.on_commit(lambda: export_storage().delete(name))
