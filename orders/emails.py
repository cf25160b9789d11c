"""The emails an order sends. Each is keyed, so running this twice sends nothing new."""

from django.urls import reverse

from messaging.services import email_send
from orders.models import Order
from orders.selectors import items_by_seller, order_item_decorate


def order_buyer_url(order: Order) -> str:
    """The order page link for the buyer's email: guests get their token link."""
    path = reverse("orders:order-detail", kwargs={"pk": order.pk})
    return f"{path}?t={order.access_token}" if order.buyer_id is None else path


def order_send_paid_emails(*, order_id: int) -> None:
    order = Order.objects.get(pk=order_id)
    items = list(order.items.select_related("product", "seller__seller_profile"))
    email_send(
        key=f"receipt-order-{order.pk}",
        to=order.email,
        template="orders/emails/receipt",
        context={
            "order": order,
            "items": items,
            "order_path": order_buyer_url(order),
            "notification_url": order_buyer_url(order),
        },
    )
    for seller, seller_items in items_by_seller(items).items():
        printed = [i for i in seller_items if i.kind == "PHYSICAL"]
        for item in printed:
            order_item_decorate(item, order)
        email_send(
            key=f"new-sale-order-{order.pk}-seller-{seller.pk}",
            to=seller.email,
            template="orders/emails/new_sale",
            context={
                "order": order,
                "items": seller_items,
                "seller": seller,
                "payable_cents": sum(i.seller_payable_cents for i in seller_items),
                # Only a seller of printed items on this order gets the address.
                "ship_lines": order.ship_address_lines if printed else [],
                "dispatch_by": min((i.dispatch_by for i in printed if i.dispatch_by), default=None),
                "sale_path": reverse("orders:seller-sale-detail", kwargs={"order_pk": order.pk}),
                "notification_url": reverse(
                    "orders:seller-sale-detail", kwargs={"order_pk": order.pk}
                ),
            },
        )


def order_send_payment_refunded_email(*, order_id: int, amount_cents: int, currency: str) -> None:
    """The buyer of an order that could not be honoured: their payment is refunded."""
    from marketplace.templatetags.money import format_money

    order = Order.objects.get(pk=order_id)
    email_send(
        key=f"payment-refunded-order-{order.pk}",
        to=order.email,
        template="orders/emails/payment_refunded",
        context={
            "order": order,
            "amount": format_money(amount_cents, currency),
            "order_path": order_buyer_url(order),
            "notification_url": order_buyer_url(order),
        },
    )
