"""Webhook intake through the real views and Stripe's real signature scheme.

Independent of the order services: the events here are Connect account updates (our
own sync service) and store-only or unknown types.
"""

import copy
from unittest import mock

import pytest
from django.core.management import call_command
from django.urls import reverse

from payments.gateway import GatewayError
from payments.models import SellerStripeAccount, StripeEvent
from payments.simulator import SimulatedAccount, SimulatorGateway
from tests.factories import UserFactory
from tests.payments.stripe_http import fixture

pytestmark = pytest.mark.django_db

ACCOUNT = "acct_1SellerAbc"


def _seller_account(**simulated) -> SellerStripeAccount:
    """A seller whose connected account exists on "Stripe" (the simulator) and with us."""
    seller = UserFactory()
    SimulatedAccount.objects.create(
        id=ACCOUNT,
        idempotency_key=f"connect-account-seller-{seller.pk}",
        seller_id=seller.pk,
        email=seller.email,
        **{
            "charges_enabled": True,
            "payouts_enabled": True,
            "details_submitted": True,
            **simulated,
        },
    )
    return SellerStripeAccount.objects.create(seller=seller, stripe_account_id=ACCOUNT)


def _event(name: str, **changes) -> dict:
    event = copy.deepcopy(fixture(name))
    event.update(changes)
    return event


def test_a_valid_event_is_stored_answered_200_and_processed(
    deliver, django_capture_on_commit_callbacks
):
    # given a seller whose account just became ready on Stripe
    account = _seller_account()
    event = _event("event_account_updated")
    # when Stripe delivers account.updated to the Connect endpoint
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = deliver(event, endpoint="connect")
    # then it is answered at once, stored raw and processed by the task (run inline)
    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    # one to process the event; one (from processing) to retry the now-ready seller's
    # failed transfers
    assert len(callbacks) == 2
    row = StripeEvent.objects.get()
    assert (row.stripe_event_id, row.type, row.endpoint, row.account, row.livemode) == (
        "evt_1AccountUpdated01",
        "account.updated",
        "connect",
        ACCOUNT,
        False,
    )
    assert row.payload == event
    assert (row.status, row.attempts, row.last_error) == ("PROCESSED", 1, "")
    assert row.processed_at is not None
    account.refresh_from_db()
    assert account.is_ready


def test_a_bad_signature_is_rejected_and_nothing_is_stored(
    client, deliver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = deliver(_event("event_charge_refunded"), secret="whsec_not_ours")
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()
    assert callbacks == []


def test_a_missing_signature_is_rejected(client):
    response = client.post(
        reverse("payments:webhook-platform"),
        data=b'{"id": "evt_1", "object": "event", "type": "x", "data": {}}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"id": "evt_" + "x" * 252},  # longer than any Stripe id (and our column)
        {"id": ""},
        {"account": "acct_" + "x" * 251},
        {"account": {"id": "acct_1SellerAbc"}},
    ],
)
def test_a_signed_event_with_malformed_ids_is_a_400_and_stores_nothing(
    changes, deliver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = deliver(_event("event_account_updated", **changes), endpoint="connect")
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()
    assert callbacks == []


def test_a_platform_event_sent_to_the_connect_endpoint_is_rejected(settings, deliver):
    # signed with the platform secret, delivered to the Connect endpoint
    response = deliver(
        _event("event_charge_refunded"), endpoint="connect", secret=settings.STRIPE_WEBHOOK_SECRET
    )
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_a_connect_event_sent_to_the_platform_endpoint_is_rejected(settings, deliver):
    response = deliver(
        _event("event_account_updated"),
        endpoint="platform",
        secret=settings.STRIPE_CONNECT_WEBHOOK_SECRET,
    )
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_only_post_is_accepted(client):
    assert client.get(reverse("payments:webhook-platform")).status_code == 405
    assert client.get(reverse("payments:webhook-connect")).status_code == 405


def test_the_webhook_needs_no_csrf_token(settings, deliver):
    # Stripe has no CSRF token; the signature is the authentication
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    from tests.payments.conftest import signed

    body, header = signed(_event("event_charge_refunded"), settings.STRIPE_WEBHOOK_SECRET)
    response = strict.post(
        reverse("payments:webhook-platform"),
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
    assert response.status_code == 200


def test_a_duplicate_delivery_stores_one_row_and_processes_once(
    deliver, django_capture_on_commit_callbacks
):
    _seller_account()
    event = _event("event_account_updated")
    with django_capture_on_commit_callbacks(execute=True):
        first = deliver(event, endpoint="connect")
    # when Stripe delivers the very same event again (it does, at least once)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = deliver(event, endpoint="connect")
    # then nothing new is stored, nothing is queued, nothing runs twice
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == {"received": True, "duplicate": True}
    assert callbacks == []
    row = StripeEvent.objects.get()
    assert (row.status, row.attempts) == ("PROCESSED", 1)


def test_a_duplicate_of_an_unprocessed_event_is_queued_again_but_processed_once(
    deliver, django_capture_on_commit_callbacks
):
    # given the first delivery was stored but its task never ran (broker hiccup)
    _seller_account()
    event = _event("event_account_updated")
    with django_capture_on_commit_callbacks(execute=False):
        deliver(event, endpoint="connect")
    assert StripeEvent.objects.get().status == "RECEIVED"
    # when Stripe retries the delivery
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        deliver(event, endpoint="connect")
    # then it is queued again and processed exactly once (the second callback is the
    # now-ready seller's transfer retry, queued by that one processing)
    assert len(callbacks) == 2
    row = StripeEvent.objects.get()
    assert (row.status, row.attempts) == ("PROCESSED", 1)


def test_an_unknown_event_type_is_stored_and_ignored(deliver, django_capture_on_commit_callbacks):
    event = _event("event_charge_refunded", id="evt_1Unknown", type="customer.created")
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(event).status_code == 200
    row = StripeEvent.objects.get()
    assert (row.type, row.status, row.attempts, row.payload) == (
        "customer.created",
        "IGNORED",
        1,
        event,
    )


@pytest.mark.parametrize(
    "event_type",
    [
        "charge.refunded",
        "refund.updated",
        "charge.dispute.created",
        "charge.dispute.closed",
        "charge.dispute.funds_withdrawn",
        "transfer.reversed",
    ],
)
def test_refund_and_dispute_events_for_charges_that_are_not_ours_are_stored_and_ignored(
    event_type, deliver, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from payments.simulator import SimulatedDispute

    event = _event("event_charge_refunded", type=event_type)
    if event_type.startswith("charge.dispute."):
        # "Stripe" knows the dispute; its charge is no order of ours.
        SimulatedDispute.objects.create(
            id="dp_1NotOurs",
            payment_intent="pi_nope",
            charge="ch_nope",
            amount=500,
            currency="usd",
            evidence_due_by=timezone.now() + timedelta(days=7),
        )
        event["data"]["object"] = {"id": "dp_1NotOurs", "object": "dispute", "charge": "ch_nope"}
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(event).status_code == 200
    row = StripeEvent.objects.get()
    expected = "PROCESSED" if event_type == "transfer.reversed" else "IGNORED"
    assert (row.type, row.status, row.endpoint, row.payload) == (
        event_type,
        expected,
        "platform",
        event,
    )


def test_an_account_that_is_not_ours_is_ignored(deliver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(_event("event_account_updated"), endpoint="connect")
    assert StripeEvent.objects.get().status == "IGNORED"


def test_processing_refetches_the_account_rather_than_trusting_the_payload(
    deliver, django_capture_on_commit_callbacks
):
    # given the payload says "ready" but Stripe (re-fetched) says payouts are still off
    account = _seller_account(payouts_enabled=False, requirements_due=["external_account"])
    with django_capture_on_commit_callbacks(execute=True):
        deliver(_event("event_account_updated"), endpoint="connect")
    account.refresh_from_db()
    assert (account.charges_enabled, account.payouts_enabled, account.is_ready) == (
        True,
        False,
        False,
    )
    assert account.requirements_currently_due == ["external_account"]


def test_a_failing_handler_leaves_the_row_failed_and_a_replay_finishes_it(
    deliver, django_capture_on_commit_callbacks
):
    # given the account cannot be re-fetched: "Stripe" refuses the request
    account = _seller_account()
    simulated = SimulatedAccount.objects.get()

    def refuse(self, account_id):
        raise GatewayError(f"No such account: {account_id}")

    # when the event arrives
    with (
        mock.patch.object(SimulatorGateway, "retrieve_account", refuse),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = deliver(_event("event_account_updated"), endpoint="connect")
    # then Stripe still gets its 200, and the row says what went wrong
    assert response.status_code == 200
    row = StripeEvent.objects.get()
    assert (row.status, row.attempts, row.processed_at) == ("FAILED", 1, None)
    assert row.last_error.startswith(f"GatewayError: No such account: {ACCOUNT}")
    account.refresh_from_db()
    assert not account.is_ready  # the failed attempt wrote nothing
    # when the cause is fixed (Stripe answers again) and ops replay the failed events
    assert SimulatedAccount.objects.filter(pk=simulated.pk).exists()
    call_command("stripe_events_replay")
    # then the event is processed and its effect applied
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("PROCESSED", 2, "")
    account.refresh_from_db()
    assert account.is_ready


def test_a_gateway_outage_fails_the_attempt_for_celery_to_retry(
    deliver, django_capture_on_commit_callbacks, monkeypatch
):
    # given Stripe is unreachable while the account is re-fetched
    account = _seller_account()
    from payments.gateway import GatewayUnavailable
    from payments.simulator import SimulatorGateway
    from payments.tasks import stripe_event_process_task

    def down(self, account_id):
        raise GatewayUnavailable("The payment provider is unavailable. Please try again.")

    monkeypatch.setattr(SimulatorGateway, "retrieve_account", down)
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(_event("event_account_updated"), endpoint="connect")
    # then Stripe gets its 200, the attempt is recorded as failed with its reason...
    assert response.status_code == 200
    row = StripeEvent.objects.get()
    assert (row.status, row.attempts) == ("FAILED", 1)
    assert row.last_error.startswith("GatewayUnavailable: The payment provider is unavailable.")
    # ...and the task is one Celery retries with backoff for exactly this error
    assert GatewayUnavailable in stripe_event_process_task.autoretry_for
    assert (stripe_event_process_task.max_retries, stripe_event_process_task.retry_backoff) == (
        8,
        True,
    )
    # when Stripe is back, the retry (here run by hand) completes it
    monkeypatch.undo()
    stripe_event_process_task.delay(row.pk)
    row.refresh_from_db()
    account.refresh_from_db()
    assert (row.status, row.attempts, account.is_ready) == ("PROCESSED", 2, True)


def test_replay_by_id_reprocesses_even_a_processed_row(deliver, django_capture_on_commit_callbacks):
    _seller_account()
    with django_capture_on_commit_callbacks(execute=True):
        deliver(_event("event_account_updated"), endpoint="connect")
    row = StripeEvent.objects.get()
    call_command("stripe_events_replay", "--id", str(row.pk))
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("PROCESSED", 2)


def test_replay_skips_fresh_received_rows_unless_all(deliver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        deliver(_event("event_charge_refunded"))
    call_command("stripe_events_replay")
    assert StripeEvent.objects.get().status == "RECEIVED"  # its task may still be queued
    call_command("stripe_events_replay", "--all")
    assert StripeEvent.objects.get().status == "IGNORED"
