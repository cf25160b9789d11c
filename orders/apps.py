from django.apps import AppConfig


class OrdersConfig(AppConfig):
    """Cart, checkout, orders with snapshot money fields, guest access, order events, fulfilment."""

    name = "orders"
    verbose_name = "Orders"
