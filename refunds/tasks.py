from celery import shared_task


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def refund_email_task(request_id: int, step: str) -> None:
    """Keyed emails: a retry never sends one twice."""
    from refunds.emails import refund_emails_send

    refund_emails_send(request_id=request_id, step=step)
