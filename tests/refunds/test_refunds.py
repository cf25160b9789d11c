"""Money going back, through the real services and the local payment simulator
("Stripe"): refund requests per line, refunds made in the dashboard, disputes, negative
balances; each checked against the ledgers and `reconcile_ledger`."""

import io
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from marketplace.exceptions import ApplicationError
from orders.models import Order, OrderItem
from orders.services import order_create_from_cart
from payments.models import (
    Dispute,
    PaymentRefund,
    PlatformLedgerEntry,
    SellerBalanceEntry,
    SellerTransfer,
    SellerTransferReversal,
)
from payments.payment_refunds import payment_refund_allocate
from payments.reconcile import reconcile, reconcile_ledger
from payments.simulator import (
    SimulatedAccount,
    SimulatedRefund,
    SimulatedTransfer,
    SimulatedTransferReversal,
    simulator_dispute_close,
    simulator_dispute_open,
    simulator_refund_outside,
)
from refunds.services import (
    refund_line_initiate,
    refund_request_approve,
    refund_request_cancel,
    refund_request_create,
    refund_request_decline,
)
from tests.catalog.factories import ProductFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _live(**kwargs):
    return ProductFactory(status="PUBLISHED", complete=True, seller_ready=True, **kwargs)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run a service and everything it queues after commit (tasks, webhooks)."""

    def _run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return _run


def _rows(order, seller=None):
    rows = SellerBalanceEntry.objects.filter(order=order)
    if seller is not None:
        rows = rows.filter(seller=seller)
    return sorted(rows.values_list("reason", "amount_cents"))


def _owed(seller) -> int:
    return sum(
        SellerBalanceEntry.objects.filter(seller=seller).values_list("amount_cents", flat=True)
    )


def test_a_partial_refund_of_one_line_reverses_that_sellers_share_and_nothing_else(paid, run):
    # given a two-seller order, paid and transferred
    printed = _live(physical=True, stock_quantity=3, price_cents=3000, shipping_cents=500)
    file = _live(price_cents=1200)
    buyer = UserFactory()
    order = paid(printed, file, buyer=buyer)
    line = order.items.get(product=printed)
    assert line.total_cents == 3500
    mail.outbox.clear()
    # when the buyer asks for the printed line back and its seller approves $20 of it
    request = run(
        refund_request_create,
        item=line,
        requested_by=buyer,
        reason="DAMAGED",
        note="Cracked in the box",
    )
    assert (request.status, request.requested_amount_cents) == ("REQUESTED", 3500)
    assert [m.to for m in mail.outbox] == [[printed.seller.email]]
    request = run(refund_request_approve, request=request, actor=printed.seller, amount_cents=2000)
    request.refresh_from_db()
    # then Stripe refunded $20 of the charge, the request is REFUNDED
    [stripe_refund] = SimulatedRefund.objects.all()
    assert stripe_refund.amount == 2000
    assert (request.status, request.approved_amount_cents) == ("REFUNDED", 2000)
    assert request.stripe_refund_id == stripe_refund.id
    # and the seller's share (net part of the item, item first) is taken back from their
    # transfer; the platform gives back its fee share
    fee_part = 2000 - 2000 * line.seller_net_cents // 3000
    seller_part = 2000 - fee_part
    assert _rows(order, printed.seller) == sorted(
        [
            ("SALE", line.seller_payable_cents),
            ("TRANSFER", -line.seller_payable_cents),
            ("REFUND", -seller_part),
            ("TRANSFER_REVERSAL", seller_part),
        ]
    )
    [reversal] = SimulatedTransferReversal.objects.all()
    assert reversal.amount == seller_part
    assert PlatformLedgerEntry.objects.get(order=order, reason="REFUND").amount_cents == -fee_part
    # and the other seller is untouched
    file_line = order.items.get(product=file)
    assert _rows(order, file.seller) == [
        ("SALE", file_line.seller_payable_cents),
        ("TRANSFER", -file_line.seller_payable_cents),
    ]
    # and the order and line say so; everyone agrees
    order.refresh_from_db()
    line.refresh_from_db()
    assert (order.status, line.refunded_cents, line.refunded_at) == (
        "PARTIALLY_REFUNDED",
        2000,
        None,
    )
    assert {tuple(m.to) for m in mail.outbox} >= {("buyer@example.com",), (printed.seller.email,)}
    assert reconcile_ledger() == (1, [])


def test_a_file_never_downloaded_is_refunded_at_once_and_stops_downloading(paid, run, client):
    file = _live(price_cents=1200)
    buyer = UserFactory()
    order = paid(file, buyer=buyer)
    line = order.items.get()
    request = run(refund_request_create, item=line, requested_by=buyer, reason="CHANGED_MIND")
    request.refresh_from_db()
    line.refresh_from_db()
    order.refresh_from_db()
    assert request.status == "REFUNDED"
    assert request.decided_by is None
    assert line.refunded_at is not None
    assert order.status == "REFUNDED"
    # the buyer's right to the file ended with the refund
    from downloads.selectors import download_entitlement

    assert download_entitlement(product=file, user=buyer) is None
    assert reconcile_ledger() == (1, [])


def test_a_downloaded_file_waits_for_the_seller(paid, run):
    file = _live(price_cents=1200)
    buyer = UserFactory()
    order = paid(file, buyer=buyer)
    line = order.items.get()
    OrderItem.objects.filter(pk=line.pk).update(first_downloaded_at=timezone.now())
    line.refresh_from_db()
    request = run(refund_request_create, item=line, requested_by=buyer, reason="NOT_AS_DESCRIBED")
    assert request.status == "REQUESTED"
    request = run(refund_request_decline, request=request, actor=file.seller, note="Works fine")
    assert request.status == "DECLINED"
    assert not PaymentRefund.objects.exists()


def test_guard_rails(paid, run):
    printed = _live(physical=True, stock_quantity=3, price_cents=3000, shipping_cents=500)
    other = _live(price_cents=800)
    buyer = UserFactory()
    order = paid(printed, other, buyer=buyer)
    line = order.items.get(product=printed)
    # an unpaid order's lines cannot be refunded
    unpaid = order_create_from_cart(
        cart={str(printed.pk): 1}, buyer=buyer, email="b@e.com", ship_to_country="US"
    )
    with pytest.raises(ApplicationError, match="paid"):
        refund_request_create(item=unpaid.items.get(), requested_by=buyer, reason="OTHER")
    # not more than the line
    with pytest.raises(ApplicationError, match="between"):
        refund_request_create(item=line, requested_by=buyer, reason="OTHER", amount_cents=3501)
    request = run(refund_request_create, item=line, requested_by=buyer, reason="OTHER")
    # one request per line
    with pytest.raises(ApplicationError, match="already asked"):
        refund_request_create(item=line, requested_by=buyer, reason="OTHER")
    # another seller cannot decide it
    with pytest.raises(ApplicationError, match="Only the seller"):
        refund_request_approve(request=request, actor=other.seller)
    # the buyer may withdraw it before a decision, then nothing can be approved
    run(refund_request_cancel, request=request, by=buyer)
    with pytest.raises(ApplicationError, match="canceled"):
        refund_request_approve(request=request, actor=printed.seller)
    assert not PaymentRefund.objects.exists()
    # a printed item delivered longer ago than the window is out of it
    OrderItem.objects.filter(pk=order.items.get(product=other).pk).update(
        first_downloaded_at=timezone.now()
    )
    OrderItem.objects.filter(pk=line.pk).update(
        fulfillment_status="DELIVERED", delivered_at=timezone.now() - timedelta(days=15)
    )
    other_line = order.items.get(product=other)
    Order.objects.filter(pk=order.pk).update(paid_at=timezone.now() - timedelta(days=15))
    with pytest.raises(ApplicationError, match="window closed"):
        refund_request_create(item=other_line, requested_by=buyer, reason="OTHER")


def test_shipping_goes_back_only_while_the_line_has_not_shipped(paid, run):
    printed = _live(physical=True, stock_quantity=3, price_cents=3000, shipping_cents=500)
    buyer = UserFactory()
    order = paid(printed, buyer=buyer)
    line = order.items.get()
    OrderItem.objects.filter(pk=line.pk).update(fulfillment_status="SHIPPED")
    line.refresh_from_db()
    request = run(refund_request_create, item=line, requested_by=buyer, reason="DAMAGED")
    assert request.requested_amount_cents == 3000  # the item, not the spent postage


def test_a_seller_refunds_a_line_they_cannot_fulfil_before_the_transfer(paid, run):
    # given the seller's transfer has not gone out yet (Stripe was down)
    from payments.gateway import GatewayUnavailable
    from payments.simulator import SimulatorGateway

    printed = _live(physical=True, stock_quantity=3, price_cents=3000, shipping_cents=500)
    with mock.patch.object(
        SimulatorGateway, "create_transfer", side_effect=GatewayUnavailable("x")
    ):
        order = paid(printed)
    transfer = SellerTransfer.objects.get(order=order)
    assert transfer.status == "PENDING"
    # when the seller refunds the whole line on their own initiative
    line = order.items.get()
    request = run(
        refund_line_initiate,
        item=line,
        actor=printed.seller,
        amount_cents=None,
        note="Out of filament",
    )
    request.refresh_from_db()
    assert (request.status, request.initiated_by) == ("REFUNDED", "SELLER")
    # then nothing is reversed: the transfer, when due, finds nothing owed
    SellerTransfer.objects.filter(pk=transfer.pk).update(next_attempt_at=timezone.now())
    from payments.payouts import transfers_retry_due

    run(transfers_retry_due)
    transfer.refresh_from_db()
    assert transfer.status == "CANCELED"
    assert not SimulatedTransfer.objects.exists()
    assert not SellerTransferReversal.objects.exists()
    assert _owed(printed.seller) == 0
    assert reconcile_ledger() == (1, [])


def test_a_refused_reversal_leaves_a_negative_balance_that_the_next_sale_settles(paid, run):
    # given a paid, transferred order whose seller's Stripe balance is then short
    printed = _live(physical=True, stock_quantity=5, price_cents=3000, shipping_cents=500)
    buyer = UserFactory()
    first = paid(printed, buyer=buyer)
    SimulatedAccount.objects.filter(seller_id=printed.seller_id).update(reversals_refused=True)
    line = first.items.get()
    # when staff refund $10 of the line
    staff = UserFactory(is_staff=True)
    run(refund_line_initiate, item=line, actor=staff, amount_cents=1000, note="Scratched")
    # then staff's refund is on the audit trail with its reason, and on the order's timeline
    from moderation.models import StaffActionLog

    audit = StaffActionLog.objects.get(action="refund.approve")
    assert (audit.actor, audit.reason, audit.after["amount_cents"]) == (staff, "Scratched", 1000)
    assert first.events.filter(actor=staff, message__contains="Scratched").exists()
    # and the reversal failed, and the seller owes the marketplace their share of it
    reversal = SellerTransferReversal.objects.get()
    assert (reversal.status, "insufficient" in reversal.last_error) == ("FAILED", True)
    debt = -(1000 * line.seller_net_cents // 3000)
    assert reversal.amount_cents == -debt
    assert _owed(printed.seller) == debt
    report = reconcile()
    assert report.drifts == []
    assert [i.problem for i in report.open_items] == [
        f"negative balance -${-debt / 100:.2f}: settled from the seller's next transfer"
    ]
    # when the seller sells again
    second = paid(printed, buyer=buyer)
    # then the next transfer is reduced by the debt, with a pair of entries explaining it
    new_line = second.items.get()
    sent = SellerTransfer.objects.get(order=second).amount_cents
    assert sent == new_line.seller_payable_cents + debt
    assert _owed(printed.seller) == 0
    assert sum(a for _, a in _rows(first, printed.seller)) == 0
    assert reconcile().drifts == []
    assert reconcile().open_items == []


def test_a_refund_made_in_the_stripe_dashboard_is_recorded_and_allocated(paid, run):
    printed = _live(physical=True, stock_quantity=3, price_cents=3000, shipping_cents=500)
    file = _live(price_cents=1200)
    order = paid(printed, file)
    # a partial one waits for staff to say which lines, and is drift until then
    session_id = order.stripe_checkout_session_id
    run(simulator_refund_outside, session_id=session_id, amount_cents=700)
    outside = PaymentRefund.objects.get(reason="OUTSIDE")
    assert (outside.status, outside.needs_allocation, outside.posted_at) == (
        "SUCCEEDED",
        True,
        None,
    )
    assert any("not allocated" in d.problem for d in reconcile_ledger()[1])
    file_line = order.items.get(product=file)
    run(payment_refund_allocate, refund_id=outside.pk, allocations={file_line.pk: 700})
    assert reconcile_ledger() == (1, [])
    # the rest refunded in the dashboard is allocated to every line by itself
    run(simulator_refund_outside, session_id=session_id)
    order.refresh_from_db()
    assert order.status == "REFUNDED"
    assert all(i.refunded_cents == i.total_cents for i in order.items.all())
    for seller in (printed.seller, file.seller):
        assert _owed(seller) == 0
    assert reconcile_ledger() == (1, [])


def test_a_dispute_debits_the_sellers_and_is_reversed_when_won(paid, run):
    printed = _live(physical=True, stock_quantity=3, price_cents=3000, shipping_cents=500)
    file = _live(price_cents=1200)
    order = paid(printed, file)
    mail.outbox.clear()
    # when the buyer's bank disputes the whole charge
    dispute_sim = run(simulator_dispute_open, session_id=order.stripe_checkout_session_id)
    dispute = Dispute.objects.get()
    assert (dispute.status, dispute.amount_cents, dispute.order_id) == (
        "needs_response",
        4700,
        order.pk,
    )
    # then each seller is debited their share and it is taken back from their transfer
    for product in (printed, file):
        line = order.items.get(product=product)
        reasons = dict(
            SellerBalanceEntry.objects.filter(order=order, seller=product.seller)
            .exclude(reason__in=["SALE", "TRANSFER"])
            .values_list("reason", "amount_cents")
        )
        assert reasons == {
            "CHARGEBACK": -line.seller_payable_cents,
            "TRANSFER_REVERSAL": line.seller_payable_cents,
        }
        assert _owed(product.seller) == 0
    assert {m.to[0] for m in mail.outbox} == {printed.seller.email, file.seller.email}
    report = reconcile()
    assert report.drifts == []
    assert [i.problem.split(",")[0] for i in report.open_items] == [
        f"dispute {dispute_sim.id} needs a response"
    ]
    # when the dispute is won, the shares are reinstated and paid out again
    run(simulator_dispute_close, dispute_id=dispute_sim.id, won=True)
    dispute.refresh_from_db()
    assert (dispute.status, dispute.reinstated_at is not None) == ("won", True)
    for product in (printed, file):
        transfers = SellerTransfer.objects.filter(order=order, seller=product.seller)
        assert sorted(transfers.values_list("sequence", "status")) == [
            (1, "CREATED"),
            (2, "CREATED"),
        ]
        assert _owed(product.seller) == 0
    assert reconcile_ledger() == (1, [])


def test_a_dispute_lost_leaves_the_debit(paid, run):
    file = _live(price_cents=1200)
    order = paid(file)
    dispute_sim = run(simulator_dispute_open, session_id=order.stripe_checkout_session_id)
    run(simulator_dispute_close, dispute_id=dispute_sim.id, won=False)
    line = order.items.get()
    assert (
        dict(SellerBalanceEntry.objects.filter(order=order).values_list("reason", "amount_cents"))[
            "CHARGEBACK"
        ]
        == -line.seller_payable_cents
    )
    assert Dispute.objects.get().closed_at is not None
    assert reconcile_ledger() == (1, [])


def test_replaying_every_refund_and_dispute_event_changes_nothing(paid, run):
    from django.core.management import call_command

    from payments.models import StripeEvent

    printed = _live(physical=True, stock_quantity=3, price_cents=3000, shipping_cents=500)
    file = _live(price_cents=1200)
    buyer = UserFactory()
    order = paid(printed, file, buyer=buyer)
    run(
        refund_line_initiate,
        item=order.items.get(product=file),
        actor=file.seller,
        amount_cents=600,
        note="",
    )
    dispute_sim = run(
        simulator_dispute_open, session_id=order.stripe_checkout_session_id, amount_cents=1000
    )
    run(simulator_dispute_close, dispute_id=dispute_sim.id, won=True)
    before = sorted(SellerBalanceEntry.objects.values_list("idempotency_key", "amount_cents"))
    ids = list(StripeEvent.objects.values_list("pk", flat=True))
    run(
        call_command,
        "stripe_events_replay",
        *[f"--id={pk}" for pk in reversed(ids)],
        stdout=io.StringIO(),
    )
    after = sorted(SellerBalanceEntry.objects.values_list("idempotency_key", "amount_cents"))
    assert after == before
    assert reconcile_ledger() == (1, [])
