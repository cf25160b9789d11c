"""The emails a refund request sends (keyed: each goes once)."""

from django.urls import reverse

from marketplace.templatetags.money import format_money
from messaging.services import email_send
from orders.emails import order_buyer_url
from refunds.models import RefundRequest

# step: (to buyer?, to seller?)
RECIPIENTS = {
    "requested": (False, True),
    "approved": (True, False),
    "declined": (True, False),
    "refunded": (True, True),
}


def refund_emails_send(*, request_id: int, step: str) -> None:
    request = RefundRequest.objects.select_related("order_item__order", "order_item__seller").get(
        pk=request_id
    )
    item = request.order_item
    order = item.order
    amount = request.approved_amount_cents or request.requested_amount_cents
    context = {
        "request": request,
        "item": item,
        "order": order,
        "amount": format_money(amount, request.currency),
        "order_path": order_buyer_url(order),
    }
    to_buyer, to_seller = RECIPIENTS[step]
    if to_buyer:
        email_send(
            key=f"refund-{request.pk}-{step}-buyer",
            to=order.email,
            template=f"refunds/emails/{step}_buyer",
            context={
                **context,
                "notification_url": reverse("refunds:refund-detail", kwargs={"pk": request.pk}),
            },
        )
    if to_seller:
        email_send(
            key=f"refund-{request.pk}-{step}-seller",
            to=item.seller.email,
            template=f"refunds/emails/{step}_seller",
            context={
                **context,
                "notification_url": reverse(
                    "refunds:seller-refund-detail", kwargs={"pk": request.pk}
                ),
            },
        )
