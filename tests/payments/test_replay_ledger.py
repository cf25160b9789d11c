"""Replaying every stored event, re-delivering them out of order, and running the
follow-ups again change nothing: exactly one set of ledger rows per order and seller."""

import pytest
from django.core.management import call_command

from orders.models import Order
from orders.services import order_create_from_cart
from payments.checkout import checkout_start
from payments.models import SellerBalanceEntry, SellerTransfer, StripeEvent
from payments.simulator import SimulatedCheckoutSession, event_build, session_object
from payments.tasks import order_paid_followups_task
from tests.catalog.factories import ProductFactory
from tests.orders.factories import SIM_SHIPPING

pytestmark = pytest.mark.django_db


def _snapshot():
    return (
        sorted(SellerBalanceEntry.objects.values_list("idempotency_key", "amount_cents")),
        sorted(SellerTransfer.objects.values_list("idempotency_key", "status", "amount_cents")),
        sorted(Order.objects.values_list("pk", "status")),
    )


def test_replaying_and_redelivering_everything_changes_nothing(
    client, deliver, django_capture_on_commit_callbacks
):
    # given a two-seller order paid through the simulator, and an expired one
    first = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True, price_cents=999)
    second = ProductFactory(
        status="PUBLISHED",
        complete=True,
        seller_ready=True,
        physical=True,
        price_cents=2000,
        shipping_cents=300,
    )
    order = order_create_from_cart(
        cart={str(first.pk): 1, str(second.pk): 1},
        buyer=None,
        email="b@example.com",
        ship_to_country="US",
    )
    redirect = checkout_start(
        order=order, success_url="http://testserver/ok/", cancel_url="http://testserver/cart/"
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(redirect.url, {"action": "pay", **SIM_SHIPPING})
    lost = order_create_from_cart(
        cart={str(first.pk): 1}, buyer=None, email="c@example.com", ship_to_country="US"
    )
    lost_redirect = checkout_start(
        order=lost, success_url="http://testserver/ok/", cancel_url="http://testserver/cart/"
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(lost_redirect.url, {"action": "expire"})
    before = _snapshot()
    assert len(before[0]) == 4  # SALE + TRANSFER for each of the two sellers
    call_command("reconcile_ledger")

    # when every stored event is processed again, by id
    ids = list(StripeEvent.objects.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("stripe_events_replay", *[f"--id={pk}" for pk in ids])
    # and the same events are delivered again, newest first (out of order), as new ids
    for row in StripeEvent.objects.order_by("-received_at", "-id"):
        session = SimulatedCheckoutSession.objects.get(pk=row.payload["data"]["object"]["id"])
        again = event_build(row.type, session_object(session))
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(again).status_code == 200
    # and the after-payment work runs again
    order_paid_followups_task.delay(order.pk)

    # then nothing moved: same ledger rows, same transfers, same statuses
    assert _snapshot() == before
    assert Order.objects.get(pk=lost.pk).status == "EXPIRED"
    call_command("reconcile_ledger")
