from django.apps import AppConfig


class RefundsConfig(AppConfig):
    """Refund requests per order line: policy, decisions, pages. The money is payments'."""

    name = "refunds"
    verbose_name = "Refunds"

    def ready(self) -> None:
        from orders import hooks as orders_hooks
        from payments import hooks
        from refunds.selectors import order_line_refund_open
        from refunds.services import refund_request_on_failed, refund_request_on_settled

        hooks.register_refund_settled(refund_request_on_settled)
        hooks.register_refund_failed(refund_request_on_failed)
        orders_hooks.register_line_refund_rule(order_line_refund_open)
