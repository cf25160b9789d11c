from celery import shared_task


@shared_task
def suspensions_lift_expired_task() -> int:
    """Beat: lift the suspensions whose end date has passed."""
    from moderation.suspensions import suspensions_lift_expired

    return suspensions_lift_expired()


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def statement_email_send_task(self, entry_id: int, title: str) -> None:
    """Email a statement of reasons after its decision commits; retried on failure
    (the EmailLog row keeps the error)."""
    from moderation.statements import statement_email_send

    try:
        statement_email_send(entry_id=entry_id, title=title)
    except Exception as exc:
        raise self.retry(exc=exc) from exc
