from celery import shared_task


@shared_task(acks_late=True)
def email_deliver_task(log_id: int) -> str:
    """Try one queued email; on failure with tries left, schedule the next try at the
    row's `next_attempt_at` (backoff). Never raises: the row records the outcome.
    Safe to run twice (the row is locked and only a PENDING one is sent)."""
    from django.utils import timezone

    from messaging.models import EmailLog
    from messaging.services import email_deliver

    log = email_deliver(log_id=log_id)
    if log is None:
        return "missing"
    if log.status == EmailLog.Status.PENDING and log.next_attempt_at is not None:
        countdown = max(0.0, (log.next_attempt_at - timezone.now()).total_seconds())
        email_deliver_task.apply_async((log_id,), countdown=countdown)
    return log.status


@shared_task
def emails_retry_failed_task() -> dict:
    """Beat: queue FAILED emails (from the last day) and stale PENDING ones again."""
    from messaging.services import emails_retry_failed

    counts = emails_retry_failed()
    return {"failed": counts.failed, "stale": counts.stale}
