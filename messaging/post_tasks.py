"""Thin Celery wrappers: each email is keyed, so a retry never sends it twice."""

from celery import shared_task


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def question_new_notify_task(question_id: int) -> None:
    from messaging.posts import question_new_notify

    question_new_notify(question_id=question_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def question_answered_notify_task(answer_id: int) -> None:
    from messaging.posts import question_answered_notify

    question_answered_notify(answer_id=answer_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def message_new_notify_task(message_id: int) -> None:
    from messaging.posts import message_new_notify

    message_new_notify(message_id=message_id)
