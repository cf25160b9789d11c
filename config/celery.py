"""The Celery app. Settings come from Django's (CELERY_* names in config/settings.py).

Run a worker with `celery -A config worker -l info` and beat with `celery -A config beat`.
The request id of the web request that enqueued a task travels in the message headers,
so a task's log lines carry the same rid as the request that caused them.
"""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("homecraft3d")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def setup_periodic_tasks(sender: Celery, **kwargs) -> None:
    """Every periodic job is declared here, and each also exists as a management command."""
    from celery.schedules import crontab

    sender.add_periodic_task(
        crontab(minute=17, hour="*/6"),
        sender.signature("payments.tasks.seller_stripe_accounts_sync_task"),
        name="connect-accounts-sync",
    )
    from django.conf import settings

    sender.add_periodic_task(
        float(settings.STRIPE_EVENT_REQUEUE_EVERY_SECONDS),
        sender.signature("payments.tasks.stripe_events_requeue_stale_task"),
        name="stripe-events-requeue-stale",
    )
    sender.add_periodic_task(
        crontab(minute="*/15"),
        sender.signature("analytics.tasks.trending_recompute_task"),
        name="trending-recompute",
    )
    # Unpaid checkouts hold stock for CHECKOUT_SESSION_MINUTES: sweep often.
    sender.add_periodic_task(
        crontab(minute="*/10"),
        sender.signature("payments.tasks.checkout_sweep_abandoned_task"),
        name="checkout-sweep-abandoned",
    )
    # The money core's safety nets (docs/LEDGER.md, "Durable follow-ups").
    sender.add_periodic_task(
        300.0,
        sender.signature("payments.tasks.orders_followups_complete_task"),
        name="orders-followups-complete",
    )
    sender.add_periodic_task(
        120.0,
        sender.signature("payments.tasks.transfers_retry_due_task"),
        name="transfers-retry-due",
    )
    sender.add_periodic_task(
        120.0,
        sender.signature("payments.tasks.payment_refunds_retry_due_task"),
        name="payment-refunds-retry-due",
    )
    # Shipped printed items the buyer never confirmed (SiteConfig.auto_deliver_after_days).
    sender.add_periodic_task(
        crontab(minute=23, hour="*/6"),
        sender.signature("orders.tasks.order_items_auto_deliver_task"),
        name="orders-auto-deliver",
    )
    # Emails whose tries all failed (last day) or whose task was lost (messaging).
    sender.add_periodic_task(
        crontab(minute=7),
        sender.signature("messaging.tasks.emails_retry_failed_task"),
        name="emails-retry-failed",
    )
    # Suspensions with an end date lift themselves (moderation.suspensions).
    sender.add_periodic_task(
        crontab(minute="*/10"),
        sender.signature("moderation.tasks.suspensions_lift_expired_task"),
        name="suspensions-lift-expired",
    )
    # Expired sessions (django.contrib.sessions) are deleted nightly.
    sender.add_periodic_task(
        crontab(minute=7, hour=4),
        sender.signature("marketplace.tasks.sessions_clear_expired_task"),
        name="sessions-clear-expired",
    )
    # A no-op with real Stripe keys: Stripe expires its own sessions.
    sender.add_periodic_task(
        300.0,
        sender.signature("payments.tasks.simulator_sessions_expire_due_task"),
        name="simulator-expire-sessions",
    )
    # Data exports are kept 7 days (accounts.export).
    sender.add_periodic_task(
        crontab(minute=37),
        sender.signature("accounts.tasks.data_exports_purge_task"),
        name="data-exports-purge",
    )


@signals.before_task_publish.connect
def _attach_request_id(headers: dict | None = None, **kwargs) -> None:
    from marketplace.observability import current_request_id

    rid = current_request_id()
    if headers is not None and rid:
        headers.setdefault("request_id", rid)


@signals.task_prerun.connect
def _bind_request_id(task=None, **kwargs) -> None:
    from marketplace.observability import bind_log_context

    # An eager task runs inside the web request and keeps that request's context.
    if task is None or task.request.is_eager:
        return
    rid = getattr(task.request, "request_id", None) or task.request.id
    bind_log_context(rid=rid, path=f"task:{task.name}")


@signals.task_postrun.connect
def _unbind_request_id(task=None, **kwargs) -> None:
    from marketplace.observability import clear_log_context

    if task is None or task.request.is_eager:
        return
    clear_log_context()
