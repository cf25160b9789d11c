from celery import shared_task


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def welcome_email_send_task(user_id: int) -> None:
    from accounts.welcome import welcome_email_send

    welcome_email_send(user_id=user_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def data_export_build_task(export_id: int) -> None:
    from accounts.export import data_export_build

    data_export_build(export_id=export_id)


@shared_task
def data_exports_purge_task() -> int:
    from accounts.export import data_export_purge_expired

    return data_export_purge_expired()
