"""The money core heals itself: each path where money could go missing without anyone
being told, reproduced through the real services and the local payment simulator
("Stripe"), and what happens now instead."""

import contextlib
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from catalog.models import Product
from orders.models import Order
from orders.services import order_checkout_expired, order_create_from_cart
from payments.checkout import checkout_start, checkout_sweep_abandoned
from payments.followups import orders_followups_complete
from payments.gateway import GatewayError, GatewayUnavailable, stripe_key
from payments.models import (
    PaymentRefund,
    PlatformLedgerEntry,
    SellerBalanceEntry,
    SellerStripeAccount,
    SellerTransfer,
    StripeEvent,
)
from payments.payouts import RETRY_MAX_CONSECUTIVE_FAILURES, transfers_retry_due
from payments.reconcile import reconcile, reconcile_ledger
from payments.selectors import order_platform_margin
from payments.simulator import (
    SimulatedAccount,
    SimulatedCheckoutSession,
    SimulatedRefund,
    SimulatedTransfer,
    SimulatorGateway,
    shipping_details_build,
    simulated_processing_fee,
    simulator_account_complete_onboarding,
    simulator_account_deauthorize,
    simulator_session_pay,
)
from tests.catalog.factories import ProductFactory
from tests.factories import UserFactory
from tests.orders.factories import SIM_SHIPPING

pytestmark = pytest.mark.django_db

SUCCESS = "http://testserver/done/"
CANCEL = "http://testserver/cart/"


def _live(**kwargs) -> Product:
    return ProductFactory(status="PUBLISHED", complete=True, seller_ready=True, **kwargs)


def _checkout(*products, quantity: int = 1) -> Order:
    order = order_create_from_cart(
        cart={str(p.pk): quantity for p in products},
        buyer=None,
        email="buyer@example.com",
        ship_to_country="US",
    )
    checkout_start(order=order, success_url=SUCCESS, cancel_url=CANCEL)
    order.refresh_from_db()
    return order


def _session(order: Order) -> SimulatedCheckoutSession:
    return SimulatedCheckoutSession.objects.get(pk=order.stripe_checkout_session_id)


def _pay(order: Order, capture, *, deliver_followups: bool = True) -> Order:
    """The buyer pays on the test checkout; the webhook is processed. Without
    `deliver_followups` the publish of the follow-up task is lost (a broker hiccup)."""
    lost = (
        contextlib.nullcontext()
        if deliver_followups
        else mock.patch("payments.checkout._queue_followups")
    )
    with lost, capture(execute=True):
        simulator_session_pay(session_id=order.stripe_checkout_session_id, shipping=SIM_SHIPPING)
    order.refresh_from_db()
    return order


def _age(order: Order, hours: int) -> None:
    past = timezone.now() - timedelta(hours=hours)
    Order.objects.filter(pk=order.pk).update(created_at=past)


def _ledger(order: Order) -> list[tuple[str, int]]:
    return sorted(
        SellerBalanceEntry.objects.filter(order=order).values_list("reason", "amount_cents")
    )


# --- 1. paid after expiry -----------------------------------------------------------------
def test_a_payment_confirmed_after_expiry_reinstates_the_order_when_stock_allows(
    django_capture_on_commit_callbacks,
):
    # given a printed item whose checkout we expired (its stock came back)
    product = _live(physical=True, stock_quantity=2, price_cents=1500, shipping_cents=0)
    order = _checkout(product)
    order_checkout_expired(order_id=order.pk)
    product.refresh_from_db()
    assert product.stock_quantity == 2
    # when the payment is confirmed after all (a delayed debit, a replayed webhook)
    order = _pay(order, django_capture_on_commit_callbacks)
    # then the order is PAID again, its stock reserved again, and the seller paid
    product.refresh_from_db()
    assert (order.status, order.stock_released_at, product.stock_quantity) == ("PAID", None, 1)
    assert order.events.filter(kind="PAID").get().message.startswith("The payment arrived after")
    net = order.items.get().seller_payable_cents
    assert _ledger(order) == [("SALE", net), ("TRANSFER", -net)]
    assert not PaymentRefund.objects.exists()
    assert reconcile_ledger() == (1, [])


def test_a_payment_confirmed_after_the_stock_was_resold_is_refunded_in_full(
    django_capture_on_commit_callbacks,
):
    # given the last unit: its first checkout expired, and a second buyer bought it
    product = _live(physical=True, stock_quantity=1, price_cents=2500, shipping_cents=0)
    first = _checkout(product)
    order_checkout_expired(order_id=first.pk)
    second = _pay(_checkout(product), django_capture_on_commit_callbacks)
    assert second.status == "PAID"
    mail.outbox.clear()
    # when the first buyer's payment is confirmed late
    first = _pay(first, django_capture_on_commit_callbacks)
    # then the order stays closed, the stock is not oversold, and the money goes back
    product.refresh_from_db()
    assert (first.status, product.stock_quantity) == ("EXPIRED", 0)
    session = _session(first)
    refund = PaymentRefund.objects.get(order=first)
    assert (refund.status, refund.amount_cents, refund.reason) == (
        "SUCCEEDED",
        2500,
        "LATE_PAYMENT",
    )
    [stripe_refund] = SimulatedRefund.objects.all()
    assert (stripe_refund.payment_intent, stripe_refund.amount) == (session.payment_intent, 2500)
    assert refund.stripe_refund_id == stripe_refund.id
    assert stripe_refund.idempotency_key == stripe_key(f"late-payment-order-{first.pk}-attempt-1")
    # and nobody was paid for it; the buyer is told; the platform bears Stripe's fee
    assert _ledger(first) == []
    assert not SellerTransfer.objects.filter(order=first).exists()
    [email] = [m for m in mail.outbox if m.to == ["buyer@example.com"]]
    assert "refunded" in email.subject.lower() and "$25.00" in email.body
    assert first.events.filter(kind="REFUND").exists()
    assert order_platform_margin(order_id=first.pk)["margin_cents"] == -simulated_processing_fee(
        2500
    )
    # and the webhook row records what happened
    row = StripeEvent.objects.filter(type="checkout.session.completed").latest("pk")
    assert row.status == "PROCESSED"
    assert reconcile_ledger() == (2, [])


def test_a_refunded_late_payment_stays_refunded_when_its_event_is_replayed_later(
    django_capture_on_commit_callbacks,
):
    # given a late payment refunded because its unit was sold to someone else
    product = _live(physical=True, stock_quantity=1, price_cents=2500)
    first = _checkout(product)
    order_checkout_expired(order_id=first.pk)
    second = _checkout(product)
    first = _pay(first, django_capture_on_commit_callbacks)
    assert PaymentRefund.objects.get(order=first).status == "SUCCEEDED"
    # and the unit comes back (the other checkout expires)
    order_checkout_expired(order_id=second.pk)
    # when the first payment's event is replayed
    row = StripeEvent.objects.filter(type="checkout.session.completed").latest("pk")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("stripe_events_replay", f"--id={row.pk}")
    # then the order stays closed and nobody is paid for money the buyer got back
    first.refresh_from_db()
    assert first.status == "EXPIRED"
    assert not SellerTransfer.objects.filter(order=first).exists()
    assert reconcile_ledger()[1] == []


def test_a_free_order_reconciles(django_capture_on_commit_callbacks):
    free = _live(price_cents=0)
    order = _checkout(free)
    assert Order.objects.get(pk=order.pk).status == "PAID"
    assert reconcile_ledger() == (1, [])


def test_a_late_payment_whose_refund_is_refused_is_drift_until_refunded(
    django_capture_on_commit_callbacks,
):
    product = _live(physical=True, stock_quantity=1, price_cents=2500, shipping_cents=0)
    first = _checkout(product)
    order_checkout_expired(order_id=first.pk)
    _pay(_checkout(product), django_capture_on_commit_callbacks)
    with mock.patch.object(
        SimulatorGateway, "create_refund", side_effect=GatewayError("Refund refused.")
    ):
        _pay(first, django_capture_on_commit_callbacks)
    refund = PaymentRefund.objects.get(order=first)
    assert (refund.status, refund.last_error) == ("FAILED", "Refund refused.")
    _, drifts = reconcile_ledger()
    assert [(d.order_id, d.problem) for d in drifts] == [
        (first.pk, "2500 captured on a expired order and not refunded (Refund refused.)")
    ]


def test_the_sweep_asks_stripe_first_and_confirms_a_payment_whose_webhook_was_lost(
    django_capture_on_commit_callbacks,
):
    # given a checkout paid on "Stripe" whose webhook never reached us, 49 hours ago
    product = _live(physical=True, stock_quantity=3, price_cents=1000, shipping_cents=0)
    order = _checkout(product)
    SimulatedCheckoutSession.objects.filter(pk=order.stripe_checkout_session_id).update(
        status="complete",
        payment_status="paid",
        payment_intent="pi_sim_lost",
        charge="ch_sim_l",
        shipping_details=shipping_details_build(SIM_SHIPPING, allowed_countries=["US"]),
    )
    # and another one nobody paid
    open_order = _checkout(product)
    _age(order, 49)
    _age(open_order, 49)
    # when the sweep runs
    with django_capture_on_commit_callbacks(execute=True):
        summary = checkout_sweep_abandoned()
    # then the paid one is PAID (not expired), the open one expired on Stripe first
    order.refresh_from_db()
    open_order.refresh_from_db()
    assert (summary.paid, summary.expired) == (1, 1)
    assert (order.status, order.stripe_charge_id) == ("PAID", "ch_sim_l")
    assert open_order.status == "EXPIRED"
    assert _session(open_order).status == "expired"
    product.refresh_from_db()
    assert product.stock_quantity == 2
    assert reconcile_ledger()[1] == []


def test_the_sweep_leaves_an_order_pending_while_stripe_is_unreachable():
    product = _live(physical=True, stock_quantity=3)
    order = _checkout(product)
    _age(order, 49)
    with mock.patch.object(
        SimulatorGateway, "expire_checkout_session", side_effect=GatewayUnavailable("down")
    ):
        summary = checkout_sweep_abandoned()
    order.refresh_from_db()
    product.refresh_from_db()
    assert (summary.errors, order.status, product.stock_quantity) == (1, "PENDING", 2)


# --- 2. lost follow-ups ---------------------------------------------------------------------
def test_follow_ups_lost_after_the_paid_commit_are_completed_by_the_sweeper(
    django_capture_on_commit_callbacks,
):
    # given a paid order whose follow-up task was never published
    product = _live(price_cents=1200)
    order = _pay(_checkout(product), django_capture_on_commit_callbacks, deliver_followups=False)
    assert order.status == "PAID"
    assert _ledger(order) == [] and not mail.outbox
    # and it is visibly pending, not drift
    report = reconcile()
    assert report.drifts == []
    assert [i.problem for i in report.open_items] == [
        "follow-ups pending: SALE and transfer to come"
    ]
    # when the sweeper runs before the grace period, nothing (the task may still come)
    assert orders_followups_complete() == 0
    # and after it
    Order.objects.filter(pk=order.pk).update(paid_at=timezone.now() - timedelta(minutes=6))
    with django_capture_on_commit_callbacks(execute=True):
        assert orders_followups_complete() == 1
    # then the seller is paid, the fee posted, the emails sent, the order stamped
    order.refresh_from_db()
    net = order.items.get().seller_payable_cents
    assert _ledger(order) == [("SALE", net), ("TRANSFER", -net)]
    assert PlatformLedgerEntry.objects.filter(order=order, reason="FEE").get().amount_cents == (
        order.items.get().marketplace_fee_cents
    )
    assert {m.to[0] for m in mail.outbox} == {"buyer@example.com", product.seller.email}
    assert order.followups_done_at is not None
    assert orders_followups_complete() == 0
    assert reconcile_ledger() == (1, [])


def test_replaying_the_payment_event_repairs_what_its_first_run_left_undone(
    django_capture_on_commit_callbacks,
):
    product = _live(price_cents=1200)
    order = _pay(_checkout(product), django_capture_on_commit_callbacks, deliver_followups=False)
    row = StripeEvent.objects.get(type="checkout.session.completed")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("stripe_events_replay", f"--id={row.pk}")
    assert len(_ledger(order)) == 2
    assert Order.objects.get(pk=order.pk).followups_done_at is not None


# --- 3. transfers that stay stuck -----------------------------------------------------------
def test_transfers_retry_with_backoff_then_wait_for_a_person(django_capture_on_commit_callbacks):
    product = _live(price_cents=1200)
    with mock.patch.object(
        SimulatorGateway, "create_transfer", side_effect=GatewayUnavailable("Stripe is down")
    ):
        order = _pay(_checkout(product), django_capture_on_commit_callbacks)
        transfer = SellerTransfer.objects.get(order=order)
        delays = []
        for _ in range(RETRY_MAX_CONSECUTIVE_FAILURES - 1):
            assert transfer.status == "PENDING"
            delays.append(transfer.next_attempt_at - transfer.last_attempt_at)
            SellerTransfer.objects.filter(pk=transfer.pk).update(next_attempt_at=timezone.now())
            transfers_retry_due()
            transfer.refresh_from_db()
    # then the gaps grew (1, 2, 4 … minutes, capped at 6 hours) and it now needs a person
    assert delays[:3] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert max(delays) == timedelta(hours=6)
    assert transfer.status == "FAILED" and "needs a person" in transfer.last_error
    assert transfer.attempts == RETRY_MAX_CONSECUTIVE_FAILURES
    assert not SimulatedTransfer.objects.exists()
    # and it is visible to staff as an open item, not silently lost
    report = reconcile()
    assert report.drifts == []
    assert [i.problem.split(":")[0] for i in report.open_items] == ["transfer failed"]


def test_a_seller_who_becomes_ready_after_a_failed_transfer_is_paid(
    client, django_capture_on_commit_callbacks
):
    # given a checkout, after which the seller's account lost its payouts (Stripe asked
    # for a document) before the buyer paid
    product = _live(price_cents=1200)
    order = _checkout(product)
    SimulatedAccount.objects.filter(seller_id=product.seller_id).update(payouts_enabled=False)
    SellerStripeAccount.objects.filter(seller=product.seller).update(payouts_enabled=False)
    order = _pay(order, django_capture_on_commit_callbacks)
    transfer = SellerTransfer.objects.get(order=order)
    assert (transfer.status, transfer.last_error) == (
        "FAILED",
        "The seller's Stripe account cannot receive payouts yet.",
    )
    # when they finish onboarding (Stripe sends account.updated)
    account_id = SellerStripeAccount.objects.get(seller=product.seller).stripe_account_id
    with django_capture_on_commit_callbacks(execute=True):
        simulator_account_complete_onboarding(account_id=account_id)
    # then the failed transfer is sent
    transfer.refresh_from_db()
    assert transfer.status == "CREATED"
    assert reconcile_ledger() == (1, [])


# --- 4. Stripe's idempotency window ---------------------------------------------------------
def test_a_retry_records_the_transfer_stripe_already_made_instead_of_paying_twice(
    django_capture_on_commit_callbacks,
):
    # given Stripe made the transfer but our worker died before recording it
    product = _live(price_cents=1200)
    with mock.patch("payments.payouts._transfer_created", side_effect=RuntimeError("killed")):
        _pay(_checkout(product), django_capture_on_commit_callbacks)
    order = Order.objects.get()
    transfer = SellerTransfer.objects.get(order=order)
    assert (transfer.status, SimulatedTransfer.objects.count()) == ("PENDING", 1)
    # when the next attempt comes, after Stripe's key window
    SellerTransfer.objects.filter(pk=transfer.pk).update(
        next_attempt_at=timezone.now(), first_attempt_at=timezone.now() - timedelta(days=2)
    )
    transfers_retry_due()
    # then it finds the existing transfer and records it: one payment, not two
    transfer.refresh_from_db()
    [made] = SimulatedTransfer.objects.all()
    assert (transfer.status, transfer.stripe_transfer_id, transfer.attempts) == (
        "CREATED",
        made.id,
        2,
    )
    assert reconcile_ledger() == (1, [])


def test_keys_carry_the_installation_prefix(settings, django_capture_on_commit_callbacks):
    settings.STRIPE_IDEMPOTENCY_PREFIX = "shop-eu"
    product = _live()
    order = _pay(_checkout(product), django_capture_on_commit_callbacks)
    assert _session(order).idempotency_key == f"shop-eu-checkout-order-{order.pk}"
    [made] = SimulatedTransfer.objects.all()
    assert made.idempotency_key == (
        f"shop-eu-transfer-order-{order.pk}-seller-{product.seller_id}-attempt-1"
    )


def test_without_a_setting_the_prefix_is_this_databases_own():
    from marketplace.selectors import site_config_get

    key = stripe_key("transfer-order-1-seller-2")
    assert key == f"hc3d-{site_config_get().installation_id}-transfer-order-1-seller-2"
    assert len(site_config_get().installation_id) == 12


def test_a_transfer_is_never_sent_without_its_source_charge(django_capture_on_commit_callbacks):
    product = _live()
    order = _checkout(product)
    SimulatedCheckoutSession.objects.filter(pk=order.stripe_checkout_session_id).update(
        status="complete", payment_status="paid", payment_intent="pi_x", charge=""
    )
    from payments.checkout import order_payment_confirm

    state = SimulatorGateway().retrieve_checkout_session(order.stripe_checkout_session_id)
    with (
        mock.patch.object(SimulatorGateway, "create_transfer") as create,
        django_capture_on_commit_callbacks(execute=True),
    ):
        order_payment_confirm(state=state)
    create.assert_not_called()
    transfer = SellerTransfer.objects.get()
    assert (transfer.status, transfer.last_error) == (
        "PENDING",
        "The order's charge is not known yet.",
    )
    assert Order.objects.get(pk=order.pk).followups_done_at is None


# --- 5. disconnected sellers ----------------------------------------------------------------
def test_a_deauthorized_seller_is_not_ready_and_staff_and_seller_are_told(
    client, django_capture_on_commit_callbacks
):
    UserFactory(is_staff=True, email="staff@example.com")
    product = _live()
    account = SellerStripeAccount.objects.get(seller=product.seller)
    # when the seller disconnects the platform in Stripe
    with django_capture_on_commit_callbacks(execute=True):
        simulator_account_deauthorize(account_id=account.stripe_account_id)
    # then the account is not ready, its listing cannot be bought, both are emailed
    account.refresh_from_db()
    assert account.disconnected_at is not None and not account.is_ready
    row = StripeEvent.objects.get(type="account.application.deauthorized")
    assert (row.status, row.endpoint) == ("PROCESSED", "connect")
    response = client.post("/cart/add/", {"product_id": product.pk, "quantity": 1})
    assert response.status_code == 302
    assert client.session.get("cart", {}) == {}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [product.seller.email, "staff@example.com"]
    )
    # and a later account.updated (or sync) never makes it ready again
    with django_capture_on_commit_callbacks(execute=True):
        call_command("sync_connect_accounts", stdout=mock.MagicMock(), stderr=mock.MagicMock())
    account.refresh_from_db()
    assert not account.is_ready


# --- 7. reconciliation ----------------------------------------------------------------------
@pytest.fixture
def healthy(django_capture_on_commit_callbacks):
    """A paid two-seller order (one share is a free file) reconciled with zero drift."""
    paid = _live(price_cents=1999)
    free = _live(price_cents=0)
    other = _live(price_cents=700)
    order = _pay(_checkout(paid, free, other), django_capture_on_commit_callbacks)
    assert order.status == "PAID"
    assert reconcile_ledger() == (1, [])
    return order, paid, free, other


def _insert_entry(**values) -> None:
    SellerBalanceEntry.objects.create(**values)


CORRUPTIONS = {
    "changed currency": (
        lambda order, paid, free, other: _insert_entry(
            seller=paid.seller,
            amount_cents=1,
            currency="eur",
            reason="ADJUSTMENT",
            order=order,
            idempotency_key="x1",
        ),
        "ledger rows in eur on an order in usd",
    ),
    "TRANSFER row naming the wrong Stripe transfer": (
        lambda order, paid, free, other: (
            _insert_entry(
                seller=paid.seller,
                amount_cents=-5,
                currency="usd",
                reason="TRANSFER",
                order=order,
                stripe_object_id="tr_other",
                idempotency_key="x2",
            ),
            _insert_entry(
                seller=paid.seller,
                amount_cents=5,
                currency="usd",
                reason="ADJUSTMENT",
                order=order,
                idempotency_key="x3",
            ),
        ),
        "TRANSFER row names Stripe transfer",
    ),
    "order total disagrees with its lines": (
        lambda order, paid, free, other: _raw_update(
            "orders_orderitem", "shipping_allocated_cents = 7", f"product_id = {other.pk}"
        ),
        "order shipping 0 ≠ Σ lines 7",
    ),
    "Stripe charged another amount": (
        lambda order, paid, free, other: Order.objects.filter(pk=order.pk).update(
            amount_charged_cents=order.total_cents - 1
        ),
        "Stripe charged",
    ),
    "a row for a seller not in the order": (
        lambda order, paid, free, other: _insert_entry(
            seller=UserFactory(),
            amount_cents=5,
            currency="usd",
            reason="ADJUSTMENT",
            order=order,
            idempotency_key="x4",
        ),
        "ledger rows for a seller who sold nothing in this order",
    ),
    "a transfer for an order that is not paid": (
        lambda order, paid, free, other: _transfer_on_unpaid(paid),
        "a transfer for an order that is not paid",
    ),
    "SALE that disagrees with the snapshots": (
        lambda order, paid, free, other: _insert_entry(
            seller=other.seller,
            amount_cents=3,
            currency="usd",
            reason="SALE",
            order=order,
            idempotency_key="x5",
        ),
        "SALE 633 ≠ snapshots 630",
    ),
    "TRANSFER entries that disagree with the transfer": (
        lambda order, paid, free, other: _raw_update(
            "payments_sellertransfer",
            "amount_cents = amount_cents + 1",
            f"seller_id = {other.seller_id}",
        ),
        "TRANSFER entries 630 ≠ transfer 631",
    ),
    "platform fee that disagrees with the lines": (
        lambda order, paid, free, other: PlatformLedgerEntry.objects.create(
            order=order, amount_cents=1, currency="usd", reason="FEE", idempotency_key="x6"
        ),
        "platform FEE",
    ),
    "captured money on an unpaid order": (
        lambda order, paid, free, other: _charged_unpaid(paid),
        "captured on a cancelled order and not refunded",
    ),
}


def _raw_update(table: str, assignment: str, where: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {assignment} WHERE {where}")  # noqa: S608


def _transfer_on_unpaid(product: Product) -> None:
    unpaid = order_create_from_cart(
        cart={str(product.pk): 1}, buyer=None, email="u@example.com", ship_to_country="US"
    )
    SellerTransfer.objects.create(
        order=unpaid,
        seller=product.seller,
        amount_cents=100,
        currency="usd",
        destination_account="acct_x",
        idempotency_key="transfer-unpaid",
    )


def _charged_unpaid(product: Product) -> None:
    unpaid = order_create_from_cart(
        cart={str(product.pk): 1}, buyer=None, email="u@example.com", ship_to_country="US"
    )
    Order.objects.filter(pk=unpaid.pk).update(status="CANCELLED", amount_charged_cents=1999)


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_reconcile_reports_each_kind_of_drift(healthy, corruption):
    # given a healthy paid order, with one thing corrupted
    make, expected = CORRUPTIONS[corruption]
    make(*healthy)
    # when the ledger is reconciled
    _, drifts = reconcile_ledger()
    # then exactly that drift is reported, by the command too
    assert drifts, corruption
    assert any(expected in d.problem for d in drifts), [d.problem for d in drifts]
    with pytest.raises(Exception, match="drift"):
        call_command("reconcile_ledger", stdout=mock.MagicMock())


def test_a_created_transfer_without_a_stripe_id_cannot_be_stored(healthy):
    from django.db import IntegrityError, transaction

    _order, paid, *_ = healthy
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_update(
            "payments_sellertransfer", "stripe_transfer_id = NULL", f"seller_id = {paid.seller_id}"
        )


def test_a_seller_whose_share_is_zero_is_no_false_alarm(healthy):
    order, _paid, free, _other = healthy
    assert not SellerTransfer.objects.filter(order=order, seller=free.seller).exists()
    assert reconcile().drifts == []


# --- 8. append-only -------------------------------------------------------------------------
def test_ledger_rows_cannot_be_updated_or_deleted(healthy):
    from payments.models import AppendOnlyError

    entry = SellerBalanceEntry.objects.first()
    entry.amount_cents = 1
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        SellerBalanceEntry.objects.filter(pk=entry.pk).update(amount_cents=1)
    with pytest.raises(AppendOnlyError):
        SellerBalanceEntry.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        PlatformLedgerEntry.objects.all().delete()


@pytest.mark.postgres
def test_the_database_refuses_raw_updates_and_deletes_of_ledger_rows(healthy):
    from django.db import DatabaseError, connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    for sql in (
        "UPDATE payments_sellerbalanceentry SET amount_cents = 1",
        "DELETE FROM payments_sellerbalanceentry",
        "UPDATE payments_platformledgerentry SET amount_cents = 1",
        "DELETE FROM payments_platformledgerentry",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)


def test_a_key_reused_for_another_order_or_line_is_a_conflict(healthy):
    from payments.ledger import LedgerConflict, ledger_post

    order, paid, *_ = healthy
    sale = SellerBalanceEntry.objects.get(order=order, seller=paid.seller, reason="SALE")
    other_order = order_create_from_cart(
        cart={str(paid.pk): 1}, buyer=None, email="o@e.com", ship_to_country="US"
    )
    common = {
        "seller": paid.seller,
        "amount_cents": sale.amount_cents,
        "currency": "usd",
        "reason": "SALE",
        "idempotency_key": sale.idempotency_key,
    }
    assert ledger_post(order=order, **common) == (sale, False)
    with pytest.raises(LedgerConflict, match="order_id"):
        ledger_post(order=other_order, **common)
    with pytest.raises(LedgerConflict, match="order_item_id"):
        ledger_post(order=order, order_item=order.items.first(), **common)
    with pytest.raises(LedgerConflict, match="currency"):
        ledger_post(order=order, **{**common, "currency": "eur"})


# --- 6. the platform's side -----------------------------------------------------------------
def test_the_platform_margin_of_an_order_is_readable(healthy):
    order, *_ = healthy
    fee = sum(i.marketplace_fee_cents for i in order.items.all())
    stripe_fee = simulated_processing_fee(order.total_cents)
    assert order_platform_margin(order_id=order.pk) == {
        "currency": "usd",
        "fee_cents": fee,
        "processing_fee_cents": -stripe_fee,
        "refunds_cents": 0,
        "margin_cents": fee - stripe_fee,
    }
    assert Order.objects.get(pk=order.pk).amount_charged_cents == order.total_cents


def test_a_payment_event_that_failed_for_good_is_listed_until_replayed(
    django_capture_on_commit_callbacks,
):
    # given a payment whose event processing failed (Stripe down while re-fetching)
    product = _live(price_cents=1500)
    order = _checkout(product)
    with mock.patch.object(
        SimulatorGateway, "retrieve_checkout_session", side_effect=GatewayError("Stripe says no")
    ):
        _pay(order, django_capture_on_commit_callbacks)
    row = StripeEvent.objects.get(type="checkout.session.completed")
    assert row.status == "FAILED"
    # then reconciliation lists it for the order, to be replayed
    report = reconcile()
    assert [i.order_id for i in report.open_items] == [order.pk]
    assert report.open_items[0].problem.startswith(f"payment event {row.stripe_event_id}")
    # and once replayed, the order is paid and nothing is left open
    with django_capture_on_commit_callbacks(execute=True):
        call_command("stripe_events_replay", f"--id={row.pk}")
    assert Order.objects.get(pk=order.pk).status == "PAID"
    assert reconcile().open_items == []
