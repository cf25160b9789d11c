"""The refund policy, in one place: the pages show it and the services enforce it
(docs/DECISIONS.md, "Refund policy").

- Only lines of paid orders; one request per line.
- The window is SiteConfig `refund_window_days`, counted from payment for files and from
  delivery for printed items (a printed item not delivered yet is inside its window).
- A file the buyer never downloaded is refunded at once when they ask
  (`refund_files_before_download`); once downloaded, the seller or staff decide.
- Shipping goes back with a line only while the line has not shipped: once shipped, the
  postage was spent (staff may still refund it).
- Nobody can refund more than the line has left.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from catalog.models import Product
from marketplace.selectors import refund_policy_lines, site_config_get
from orders.models import Order, OrderItem
from payments.payment_refunds import line_refundable_cents


def refund_window_ends(item: OrderItem) -> datetime | None:
    """When the buyer may no longer ask; None while a printed item is on its way."""
    days = timedelta(days=site_config_get().refund_window_days)
    if item.kind == Product.Kind.PHYSICAL:
        return item.delivered_at + days if item.delivered_at else None
    return item.order.paid_at + days if item.order.paid_at else None


def refund_ask_refusal(item: OrderItem, *, by_seller_or_staff: bool = False) -> str | None:
    """Why this line cannot be refunded now, or None."""
    from django.utils import timezone

    if item.order.status not in Order.WAS_PAID:
        return "Only items of paid orders can be refunded."
    if line_refundable_cents(item) <= 0:
        return "This item is already refunded."
    if by_seller_or_staff:
        return None
    if hasattr(item, "refund_request"):
        return "You already asked for a refund of this item."
    ends = refund_window_ends(item)
    if ends is not None and ends < timezone.now():
        return f"The refund window closed on {ends:%-d %b %Y}."
    return None


def refund_max_cents(item: OrderItem, *, by_staff: bool) -> int:
    """The most that can go back on this line now (shipping only while unshipped)."""
    left = line_refundable_cents(item)
    item_part = item.subtotal_cents + item.tax_allocated_cents
    item_left = max(0, min(left, item_part - min(item.refunded_cents, item_part)))
    shipped = item.fulfillment_status in (
        OrderItem.Fulfillment.SHIPPED,
        OrderItem.Fulfillment.DELIVERED,
    )
    return item_left if shipped and not by_staff else left


def refund_needs_decision(item: OrderItem) -> bool:
    """False only for a file never downloaded, when the policy refunds those at once."""
    return not (
        item.kind == Product.Kind.FILE
        and item.first_downloaded_at is None
        and site_config_get().refund_files_before_download
    )


def refund_policy_summary() -> list[str]:
    """The policy as the buyer reads it before asking (and at checkout, on the order
    page): one text, `marketplace.selectors.refund_policy_lines`."""
    return refund_policy_lines()
