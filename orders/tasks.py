from celery import shared_task

from orders.services import order_paid_followups, orders_expire_abandoned


@shared_task(bind=True, max_retries=8, retry_backoff=True, acks_late=True)
def order_paid_followups_task(self, order_id: int) -> None:
    """Thin wrapper: payouts and emails after payment. The service is idempotent, so a
    retry after a network failure (GatewayUnavailable) resumes where it stopped."""
    from payments.gateway import GatewayUnavailable

    try:
        order_paid_followups(order_id=order_id)
    except GatewayUnavailable as exc:
        raise self.retry(exc=exc) from exc


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def order_item_fulfillment_email_task(item_id: int, step: str) -> None:
    """Thin wrapper; the email is keyed, so a retry never sends it twice."""
    from orders.services import order_item_send_fulfillment_email

    order_item_send_fulfillment_email(item_id=item_id, step=step)


@shared_task
def orders_expire_abandoned_task() -> int:
    """Beat, hourly: give back the stock of checkouts that can never be paid."""
    return orders_expire_abandoned()
