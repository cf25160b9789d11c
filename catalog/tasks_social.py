from celery import shared_task


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def review_request_send_task(order_id: int) -> None:
    """Thin wrapper; the email is keyed per order, so a retry never sends it twice."""
    from catalog.reviews import review_request_send

    review_request_send(order_id=order_id)
