from celery import shared_task


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def order_item_fulfillment_email_task(item_id: int, step: str) -> None:
    """Thin wrapper; the email is keyed, so a retry never sends it twice."""
    from orders.services import order_item_send_fulfillment_email

    order_item_send_fulfillment_email(item_id=item_id, step=step)


@shared_task
def order_items_auto_deliver_task() -> int:
    """Beat: shipped printed items nobody confirmed become DELIVERED after N days."""
    from orders.services import order_items_auto_deliver

    return order_items_auto_deliver()
