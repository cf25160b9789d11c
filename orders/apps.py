from django.apps import AppConfig


class OrdersConfig(AppConfig):
    """Cart, checkout, orders with snapshot money fields, guest access, order events, fulfilment."""

    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        # What lower apps learn from orders, without importing it (see catalog/hooks.py).
        from catalog import hooks as catalog_hooks
        from marketplace import hooks as marketplace_hooks
        from messaging import hooks as messaging_hooks
        from orders.reviews import order_review_request_send, review_evidence_from_purchase
        from orders.selectors import (
            file_purchased_by,
            listing_metrics_units_sold,
            order_context_for_messaging,
        )
        from orders.services import orders_attach_guest_orders

        marketplace_hooks.register_email_confirmed(orders_attach_guest_orders)
        catalog_hooks.register_review_evidence(review_evidence_from_purchase)
        catalog_hooks.register_review_request(order_review_request_send)
        catalog_hooks.register_listing_metrics(listing_metrics_units_sold)
        catalog_hooks.register_file_purchased(file_purchased_by)
        messaging_hooks.register_order_context(order_context_for_messaging)
