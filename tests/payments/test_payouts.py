"""Paying sellers after an order is paid (`payments.payouts.order_payout`): transfers and
the SALE/TRANSFER ledger rows, when one seller cannot be paid and when it is run again."""

import pytest
import stripe
from django.utils import timezone

from payments.gateway import stripe_key
from payments.models import SellerBalanceEntry, SellerStripeAccount, SellerTransfer
from payments.payouts import order_payout, seller_transfers_retry, transfers_retry_due
from payments.reconcile import reconcile_ledger
from tests.catalog.factories import ProductFactory, make_ready
from tests.orders.factories import paid_order
from tests.payments.stripe_http import RecordingHTTPClient, fixture

pytestmark = pytest.mark.django_db


def _ledger(order) -> list[tuple[str, int, int]]:
    return sorted(
        SellerBalanceEntry.objects.filter(order=order).values_list(
            "reason", "seller_id", "amount_cents"
        )
    )


@pytest.fixture
def stripe_http(settings, monkeypatch):
    """Real Stripe (`StripeGateway`) whose HTTP layer answers from `http.responses`."""
    http = RecordingHTTPClient()
    settings.STRIPE_SECRET_KEY = "sk_test_51Abc"
    monkeypatch.setattr(stripe, "new_default_http_client", lambda **kwargs: http)
    return http


def test_a_transfer_stripe_refuses_fails_for_that_seller_and_the_others_are_paid(stripe_http):
    # given a paid order with two sellers
    refused = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    paid = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    order = paid_order(refused, paid)
    assert refused.seller_id < paid.seller_id  # transfers go in seller order
    # and Stripe refuses the first seller's transfer but accepts the second
    paid_net = order.items.get(product=paid).seller_payable_cents
    stripe_http.responses = [
        (400, "error_invalid_request"),
        (200, {**fixture("transfer"), "amount": paid_net}),
    ]
    # when the sellers are paid
    transfers = order_payout(order_id=order.pk)
    # then the refusal is recorded for staff, and the other seller still got paid
    assert [t.seller_id for t in transfers] == [paid.seller_id]
    failed = SellerTransfer.objects.get(seller=refused.seller)
    assert (failed.status, failed.stripe_transfer_id, failed.last_error) == (
        "FAILED",
        None,
        "The payment provider refused the request.",
    )
    created = SellerTransfer.objects.get(seller=paid.seller)
    assert (created.status, created.stripe_transfer_id) == ("CREATED", "tr_1QxYz0AbCdEf")
    assert [r.form["destination"] for r in stripe_http.requests] == [
        f"acct_test_{refused.seller_id}",
        f"acct_test_{paid.seller_id}",
    ]
    # and the ledger owes the refused seller their sale, and nothing to the paid one
    net = order.items.get(product=refused).seller_payable_cents
    assert _ledger(order) == sorted(
        [
            ("SALE", refused.seller_id, net),
            ("SALE", paid.seller_id, order.items.get(product=paid).seller_payable_cents),
            ("TRANSFER", paid.seller_id, -order.items.get(product=paid).seller_payable_cents),
        ]
    )


def test_an_outage_leaves_the_transfer_pending_and_a_later_attempt_finds_it_first(stripe_http):
    # given a paid order, and Stripe down for the whole first attempt
    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    order = paid_order(product)
    net = order.items.get().seller_payable_cents
    stripe_http.responses = [(500, "error_api")] * 3
    # when the payout runs: nothing is raised, the transfer waits for its next attempt
    assert order_payout(order_id=order.pk) == []
    transfer = SellerTransfer.objects.get()
    assert (transfer.status, transfer.attempts, transfer.consecutive_failures) == ("PENDING", 1, 1)
    assert transfer.last_error.startswith("Stripe unavailable (attempt 1)")
    assert transfer.next_attempt_at > timezone.now()
    assert [reason for reason, _, _ in _ledger(order)] == ["SALE"]
    # and a retry before its time sends nothing
    assert transfers_retry_due() == 0
    # when the time comes and Stripe is back, the retry looks for the transfer first
    SellerTransfer.objects.filter(pk=transfer.pk).update(next_attempt_at=timezone.now())
    stripe_http.responses = [
        (200, {"object": "list", "data": [], "has_more": False, "url": "/v1/transfers"}),
        (200, {**fixture("transfer"), "amount": net}),
    ]
    assert transfers_retry_due() == 1
    # then it lists the order's transfers, then creates one with a fresh key
    listing, create = stripe_http.requests[-2:]
    assert (listing.method, listing.path, listing.form["transfer_group"]) == (
        "get",
        "/v1/transfers",
        f"order-{order.pk}",
    )
    base = f"transfer-order-{order.pk}-seller-{product.seller_id}"
    assert create.headers["Idempotency-Key"] == stripe_key(f"{base}-attempt-2")
    assert stripe_http.requests[0].headers["Idempotency-Key"] == stripe_key(f"{base}-attempt-1")
    transfer.refresh_from_db()
    assert (transfer.status, transfer.amount_cents) == ("CREATED", net)
    assert reconcile_ledger() == (1, [])


def test_a_seller_paid_after_onboarding_late_has_the_real_destination_recorded():
    # given a paid order whose seller has (no longer) a connected account
    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    order = paid_order(product)
    SellerStripeAccount.objects.filter(seller=product.seller).delete()
    assert order_payout(order_id=order.pk) == []
    transfer = SellerTransfer.objects.get()
    assert (transfer.status, transfer.destination_account, transfer.last_error) == (
        "FAILED",
        "",
        "The seller has no connected Stripe account.",
    )
    # when the seller onboards (account.updated retries their failed transfers)
    account = make_ready(product.seller)
    assert seller_transfers_retry(seller_id=product.seller_id) == 1
    [transfer] = order_payout(order_id=order.pk)
    # then the transfer says where the money went, and the ledger is whole once
    transfer.refresh_from_db()
    assert (transfer.status, transfer.destination_account, transfer.last_error) == (
        "CREATED",
        account.stripe_account_id,
        "",
    )
    net = order.items.get().seller_payable_cents
    assert _ledger(order) == [
        ("SALE", product.seller_id, net),
        ("TRANSFER", product.seller_id, -net),
    ]
    assert reconcile_ledger() == (1, [])
