from celery import shared_task
from django.core.management import call_command


@shared_task(ignore_result=True)
def sessions_clear_expired_task() -> None:
    """Beat job (nightly): delete expired sessions, as `manage.py clearsessions` does."""
    call_command("clearsessions")
