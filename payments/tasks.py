"""Thin Celery wrappers around payments services (STYLE.md §10)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from payments.gateway import GatewayUnavailable
from payments.services import (
    seller_stripe_accounts_sync_all,
    stripe_event_process,
    stripe_events_for_replay,
)


@shared_task(
    autoretry_for=(GatewayUnavailable, OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
    acks_late=True,
)
def stripe_event_process_task(event_row_id: int) -> str:
    """Process one stored webhook event. Safe to run twice: the service locks the row and
    returns at once when it is already processed. Other errors leave the row FAILED with
    its error for staff and `stripe_events_replay`."""
    return stripe_event_process(event_row_id=event_row_id)


@shared_task(acks_late=True)
def stripe_events_requeue_stale_task() -> int:
    """Periodic: queue again every RECEIVED row whose task was lost (older than ten
    minutes, e.g. the broker was down at intake). FAILED rows are left for staff and
    `stripe_events_replay`: their error needs a look first. Returns how many."""
    ids = stripe_events_for_replay(include_failed=False)
    for event_row_id in ids:
        stripe_event_process_task.delay(event_row_id)
    return len(ids)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def seller_stripe_accounts_sync_task() -> dict:
    """Periodic: re-sync every connected account (the safety net for a missed
    `account.updated`). Same as `manage.py sync_connect_accounts`."""
    summary = seller_stripe_accounts_sync_all()
    return {
        "total": summary.total,
        "ready": summary.ready,
        "not_ready": summary.not_ready,
        "changed_to_ready": summary.changed_to_ready,
        "errors": len(summary.errors),
    }


@shared_task
def simulator_sessions_expire_due_task() -> int:
    """Periodic, embedded default only: expire overdue simulated Checkout Sessions, as
    Stripe would on its own. Does nothing when real Stripe keys are set."""
    from payments.simulator import simulator_enabled, simulator_sessions_expire_due

    if not simulator_enabled():
        return 0
    return simulator_sessions_expire_due()
