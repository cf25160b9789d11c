"""Races that only a real database with row locks can show (PostgreSQL)."""

import threading

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from payments import services
from payments.models import SellerStripeAccount, StripeEvent
from payments.simulator import SimulatedAccount
from tests.factories import UserFactory
from tests.payments.conftest import signed
from tests.payments.stripe_http import fixture

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
    pytest.mark.django_db(transaction=True),
]

THREADS = 8


def test_the_same_event_delivered_at_once_is_stored_once_and_processed_once(monkeypatch):
    # given a seller account and a handler that counts its runs
    seller = UserFactory()
    SimulatedAccount.objects.create(
        id="acct_1SellerAbc",
        idempotency_key="k",
        seller_id=seller.pk,
        email=seller.email,
        details_submitted=True,
        charges_enabled=True,
        payouts_enabled=True,
    )
    SellerStripeAccount.objects.create(seller=seller, stripe_account_id="acct_1SellerAbc")
    runs = []
    lock = threading.Lock()
    real = services.HANDLERS["account.updated"]

    def counting(row, obj):
        with lock:
            runs.append(row.pk)
        return real(row, obj)

    monkeypatch.setitem(services.HANDLERS, "account.updated", counting)
    body, header = signed(fixture("event_account_updated"), settings.STRIPE_CONNECT_WEBHOOK_SECRET)
    url = reverse("payments:webhook-connect")
    barrier = threading.Barrier(THREADS)
    statuses, errors = [], []

    def deliver():
        try:
            client = Client()
            barrier.wait(timeout=10)
            response = client.post(
                url, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
            )
            statuses.append(response.status_code)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    # when Stripe's retries land on every web process at the same moment
    threads = [threading.Thread(target=deliver) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then every delivery is answered 200, one row is stored and it was processed once
    assert errors == []
    assert statuses == [200] * THREADS
    row = StripeEvent.objects.get()
    assert (row.status, row.attempts) == ("PROCESSED", 1)
    assert runs == [row.pk]
    assert SellerStripeAccount.objects.get().is_ready
