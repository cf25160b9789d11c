from celery import shared_task

from catalog.services import digital_asset_build_preview


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def digital_asset_build_preview_task(asset_id: int) -> bool:
    """Thin wrapper: the service is idempotent, so a retry or duplicate is harmless."""
    return digital_asset_build_preview(asset_id=asset_id)


# The review-request task lives beside the reviews code; importing it here registers it
# with workers through Celery's autodiscovery of `catalog.tasks`.
from catalog.tasks_social import review_request_send_task  # noqa: E402, F401
