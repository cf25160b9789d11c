"""Thin Celery wrappers around payments services (STYLE.md §10)."""

from celery import shared_task
from django.conf import settings
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
    """Periodic (every STRIPE_EVENT_REQUEUE_EVERY_SECONDS): queue again every RECEIVED
    row whose task was lost (older than STRIPE_EVENT_REQUEUE_AFTER_SECONDS, e.g. the
    broker was down at intake). Queuing a row twice is harmless: the task is a no-op on
    a processed row. FAILED rows are left for staff and `stripe_events_replay`: their
    error needs a look first. Returns how many."""
    ids = stripe_events_for_replay(
        include_failed=False, stale_minutes=settings.STRIPE_EVENT_REQUEUE_AFTER_SECONDS / 60
    )
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


# ------------------------------------------------------------------------------
# After payment (payments.followups, payouts, payment_refunds, checkout)
# ------------------------------------------------------------------------------
@shared_task(
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
)
def order_paid_followups_task(order_id: int) -> bool:
    """Payouts, platform fee and emails of a paid order. Idempotent; what it cannot
    finish (an outage, a failed email) is picked up by the schedules below."""
    from payments.followups import order_paid_followups

    return order_paid_followups(order_id=order_id)


@shared_task(acks_late=True)
def orders_followups_complete_task() -> int:
    """Beat, every 5 minutes: PAID orders whose follow-ups a lost task left undone."""
    from payments.followups import orders_followups_complete

    return orders_followups_complete()


@shared_task(acks_late=True)
def transfers_retry_due_task() -> int:
    """Beat, every 2 minutes: transfers and transfer reversals whose next attempt is due
    (after an outage, or a lost task)."""
    from payments.payouts import transfers_retry_due
    from payments.reversals import reversals_retry_due

    return transfers_retry_due() + reversals_retry_due()


@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=5)
def order_payout_task(order_id: int) -> int:
    """Pay what the sellers of an order are owed (again: a top-up after a dispute won)."""
    from payments.payouts import order_payout

    return len(order_payout(order_id=order_id))


@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=5)
def transfer_reversal_attempt_task(reversal_id: int) -> str:
    from payments.reversals import transfer_reversal_attempt

    return transfer_reversal_attempt(reversal_id=reversal_id).status


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def dispute_email_task(dispute_pk: int, step: str) -> None:
    from payments.disputes import dispute_emails_send

    dispute_emails_send(dispute_pk=dispute_pk, step=step)


@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=5)
def seller_transfers_retry_task(seller_id: int) -> int:
    """A seller became ready: attempt their FAILED transfers again."""
    from payments.payouts import seller_transfers_retry

    return seller_transfers_retry(seller_id=seller_id)


@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=5)
def payment_refund_attempt_task(refund_id: int) -> str:
    from payments.payment_refunds import payment_refund_attempt

    return payment_refund_attempt(refund_id=refund_id).status


@shared_task(acks_late=True)
def payment_refunds_retry_due_task() -> int:
    """Beat, every 2 minutes: refunds whose next attempt is due."""
    from payments.payment_refunds import payment_refunds_retry_due

    return payment_refunds_retry_due()


@shared_task(acks_late=True)
def checkout_sweep_abandoned_task() -> dict:
    """Beat, every 10 minutes: checkouts pending past their session's life — ask
    Stripe, then expire or confirm. Same as `manage.py expire_abandoned_orders`."""
    from payments.checkout import checkout_sweep_abandoned

    summary = checkout_sweep_abandoned()
    return {
        "expired": summary.expired,
        "paid": summary.paid,
        "waiting": summary.waiting,
        "errors": summary.errors,
    }


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def payment_refunded_email_task(refund_id: int) -> None:
    """Keyed email: a retry never sends it twice."""
    from orders.emails import order_send_payment_refunded_email
    from payments.models import PaymentRefund

    refund = PaymentRefund.objects.get(pk=refund_id)
    order_send_payment_refunded_email(
        order_id=refund.order_id, amount_cents=refund.amount_cents, currency=refund.currency
    )


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def seller_disconnected_email_task(account_pk: int) -> None:
    from payments.services import seller_disconnected_emails_send

    seller_disconnected_emails_send(account_pk=account_pk)
