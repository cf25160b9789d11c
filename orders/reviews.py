"""What orders tell the catalog's reviews (registered as `catalog.hooks` in
`OrdersConfig.ready()`): a paid line is first-hand use, and the review-request email
about a paid order."""

from django.urls import reverse

from catalog.hooks import ReviewEvidence
from catalog.models import Product, Review
from marketplace.models import User
from marketplace.selectors import seller_is_listed
from messaging.models import EmailLog
from messaging.services import email_send
from orders.models import Order, OrderItem


def review_evidence_from_purchase(*, product: Product, user: User) -> ReviewEvidence | None:
    """The buyer's latest paid, unrefunded line of `product`, or None."""
    line_id = (
        OrderItem.objects.filter(
            product=product,
            order__buyer=user,
            order__status__in=Order.WAS_PAID,
            refunded_at__isnull=True,
        )
        .order_by("-order__paid_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return ReviewEvidence(order_item_id=line_id) if line_id is not None else None


def order_review_request_send(*, order_id: int) -> EmailLog | None:
    """Email the buyer of a paid order once (key `review-request-order-<id>`), listing
    the products they can still review: lines refunded by now, listings no longer
    public and products they already reviewed are left out. Nothing to list: no email.
    Safe to run twice."""
    order = Order.objects.filter(pk=order_id, status__in=Order.WAS_PAID).first()
    if order is None:
        return None
    items = [
        item
        for item in order.items.filter(refunded_at__isnull=True).select_related("product__seller")
        if item.product.is_public and seller_is_listed(item.product.seller)
    ]
    reviewed = set()
    if order.buyer_id:
        reviewed = set(
            Review.objects.filter(
                author_id=order.buyer_id, product_id__in=[i.product_id for i in items]
            ).values_list("product_id", flat=True)
        )
    lines, seen = [], set()
    for item in items:
        if item.product_id in reviewed or item.product_id in seen:
            continue
        seen.add(item.product_id)
        lines.append(
            {
                "title": item.product.title,
                "product_path": item.product.get_absolute_url(),
                "review_path": reverse(
                    "social:review-edit", kwargs={"product_pk": item.product_id}
                ),
            }
        )
    if not lines:
        return None
    return email_send(
        key=f"review-request-order-{order.pk}",
        to=order.email,
        template="catalog/emails/review_request",
        context={
            "order": order,
            "lines": lines,
            "is_guest": order.buyer_id is None,
            "notification_url": lines[0]["review_path"]
            if len(lines) == 1
            else reverse("orders:order-detail", kwargs={"pk": order.pk}),
        },
    )
