"""Reads of refund requests, each scoped to who is asking (DESIGN.md, Access): the buyer
(signed in, or a guest holding the order's token), the seller of the line, staff."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from marketplace.models import User
from orders.models import Order, OrderItem
from refunds.models import RefundRequest
from refunds.policy import refund_ask_refusal


def _is_buyer(order: Order, *, user: User, token: str | None) -> bool:
    """The order's buyer signed in, or anyone holding its token (constant-time). Staff
    and sellers are not buyers: they have their own pages."""
    if user.is_authenticated and order.buyer_id is not None and order.buyer_id == user.pk:
        return True
    return bool(token and constant_time_compare(token, order.access_token))


def order_item_for_buyer(
    *, order_pk: int, item_pk: int, user: User, token: str | None
) -> OrderItem | None:
    """The line if this visitor bought it (or holds the order's token), else None."""
    item = (
        OrderItem.objects.select_related("order", "product", "seller__seller_profile")
        .filter(pk=item_pk, order_id=order_pk)
        .first()
    )
    if item is None or not _is_buyer(item.order, user=user, token=token):
        return None
    return item


def _requests() -> QuerySet[RefundRequest]:
    return RefundRequest.objects.select_related(
        "order_item__order", "order_item__seller__seller_profile", "decided_by"
    )


def refund_get_for_buyer(*, pk: int, user: User, token: str | None) -> RefundRequest | None:
    """A request on the visitor's own order (signed in, or with the order's token)."""
    request = _requests().filter(pk=pk).first()
    if request is None or not _is_buyer(request.order_item.order, user=user, token=token):
        return None
    return request


def refund_list_for_buyer(*, buyer: User) -> QuerySet[RefundRequest]:
    """Every request on the buyer's orders (theirs, and those their sellers started)."""
    return _requests().filter(order_item__order__buyer=buyer)


def refund_queue_for_seller(*, seller: User, status: str = "") -> QuerySet[RefundRequest]:
    """Requests on the seller's own lines; waiting ones first, then newest."""
    rows = _requests().filter(order_item__seller=seller)
    if status:
        rows = rows.filter(status=status)
    return rows.order_by(_waiting_first(), "-created_at")


def refund_get_for_seller(*, pk: int, seller: User) -> RefundRequest | None:
    return _requests().filter(pk=pk, order_item__seller=seller).first()


def refund_list_for_staff(
    *, status: str = "", older_than_days: int | None = None
) -> QuerySet[RefundRequest]:
    """All requests; filtered by status and by age (asked more than N days ago). Those
    that need someone (requested, failed) first, oldest first within them."""
    rows = _requests()
    if status:
        rows = rows.filter(status=status)
    if older_than_days:
        rows = rows.filter(created_at__lte=timezone.now() - timedelta(days=older_than_days))
    return rows.order_by(_waiting_first(), "created_at")


def _waiting_first():
    from django.db.models import Case, IntegerField, Value, When

    return Case(
        When(
            status__in=[RefundRequest.Status.REQUESTED, RefundRequest.Status.FAILED],
            then=Value(0),
        ),
        default=Value(1),
        output_field=IntegerField(),
    )


def order_line_refund_open(line: OrderItem) -> bool:
    """orders' "line refund rule" hook: may the buyer ask for this line now?"""
    return refund_ask_refusal(line) is None
