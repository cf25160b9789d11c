"""Drill: a storm of Stripe deliveries against the live stack. DRILL_WEBHOOK_DELIVERIES
(CI: the default 300, to stay inside its time budget; the full drill by hand: 1000)
signed `checkout.session.completed` deliveries, 30% of them repeats of
another, shuffled, from 8 concurrent clients, to gunicorn, processed by two Celery
workers. Every event is processed exactly once: one PAID per order, one sale and one
transfer per line, zero drift."""

import os
import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db.models import Count, Sum

from orders.models import Order, OrderEvent
from payments.models import SellerBalanceEntry, StripeEvent
from payments.reconcile import reconcile_ledger
from tests.drills.helpers import deliver, drill_products, paid_checkout_event
from tests.stackutil import needs_pg_and_redis, stack_for_tests, wait_for

pytestmark = [*needs_pg_and_redis, pytest.mark.django_db(transaction=True)]

DELIVERIES = int(os.environ.get("DRILL_WEBHOOK_DELIVERIES", "300"))
DUPLICATE_SHARE = 0.30
CLIENTS = 8


def test_a_shuffled_storm_with_duplicates_is_processed_exactly_once(tmp_path):
    # given paid checkouts whose completion events Stripe is about to send, with 30% of
    # the deliveries being repeats (Stripe retries), shuffled
    unique = DELIVERIES - int(DELIVERIES * DUPLICATE_SHARE)
    products = drill_products()
    events = [paid_checkout_event(products[n % len(products)], n)[1] for n in range(unique)]
    rng = random.Random(18)
    deliveries = events + [rng.choice(events) for _ in range(DELIVERIES - unique)]
    rng.shuffle(deliveries)
    stack = stack_for_tests(tmp_path)
    try:
        stack.start_worker("worker1")
        stack.start_worker("worker2")
        stack.start_web()

        # when 8 clients deliver them all at once
        def client(share: list[dict]) -> list[tuple[int, bool]]:
            http = requests.Session()
            out = []
            for event in share:
                response = deliver(http, stack.url, event)
                out.append((response.status_code, response.json().get("duplicate")))
            return out

        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = [
                answer
                for share in pool.map(client, [deliveries[i::CLIENTS] for i in range(CLIENTS)])
                for answer in share
            ]

        # then every delivery was answered 200; exactly one per event was new
        assert Counter(status for status, _ in answers) == {200: DELIVERIES}
        assert Counter(dup for _, dup in answers) == {False: unique, True: DELIVERIES - unique}
        # and the workers processed every stored event, once
        wait_for(
            lambda: not StripeEvent.objects.filter(status__in=("RECEIVED", "FAILED")).exists(),
            timeout=600,
            what="every event processed (worker logs: "
            + stack.logs("worker1", 1500)
            + stack.logs("worker2", 1500)
            + ")",
        )
        wait_for(
            lambda: SellerBalanceEntry.objects.filter(reason="TRANSFER").count() >= unique,
            timeout=300,
            what="every seller transfer posted",
        )
    finally:
        stack.stop()
    assert StripeEvent.objects.count() == unique
    assert dict(StripeEvent.objects.values_list("status").annotate(n=Count("pk"))) == {
        "PROCESSED": unique
    }
    # side effects, counted: each order PAID once, one sale and one transfer per order
    assert Order.objects.filter(status="PAID").count() == unique
    assert OrderEvent.objects.filter(kind="PAID").count() == unique
    assert set(
        OrderEvent.objects.filter(kind="PAID")
        .values("order")
        .annotate(n=Count("pk"))
        .values_list("n", flat=True)
    ) == {1}
    per_reason = dict(SellerBalanceEntry.objects.values_list("reason").annotate(n=Count("pk")))
    assert per_reason == {"SALE": unique, "TRANSFER": unique}
    assert SellerBalanceEntry.objects.aggregate(total=Sum("amount_cents"))["total"] == 0
    # and the ledger reconciles with zero drift
    checked, drift = reconcile_ledger()
    assert drift == []
    assert checked >= unique
