"""Money going back, as a state machine: random sales, refund requests (full and partial,
approved, declined), seller and staff refunds, refunds made in the Stripe dashboard (full,
or partial then allocated by staff), disputes opened, won and lost, sellers whose Stripe
balance is short (refused reversals), and webhook replays — all through the simulator
("Stripe") and the real webhook pipeline. After every step:

1. `reconcile_ledger` reports zero drift;
2. every seller balance is explained: Σ of their rows = Σ over their orders of what is
   owed on each, and nothing is owed on an order unless it is an open item (a transfer
   on its way, a reversal being sent, a negative balance to settle);
3. no charge is refunded beyond what was captured, no line beyond what it was paid, and
   Stripe's refunds equal our posted and pending ones;
4. no transfer is reversed beyond what it sent.

Each example runs in a savepoint rolled back at its end. Bounded for CI;
REFUND_SM_EXAMPLES / REFUND_SM_STEPS run more by hand.
"""

from __future__ import annotations

import os
from collections import defaultdict

import pytest
from django.db import transaction
from django.db.models import Sum
from django.test import TestCase
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from marketplace.exceptions import ApplicationError
from orders.models import OrderItem
from orders.services import order_create_from_cart
from payments.checkout import checkout_start
from payments.models import (
    Dispute,
    PaymentRefund,
    SellerBalanceEntry,
    SellerTransfer,
    SellerTransferReversal,
    StripeEvent,
)
from payments.payment_refunds import line_refundable_cents, payment_refund_allocate
from payments.reconcile import reconcile
from payments.services import stripe_event_process, stripe_event_reset
from payments.simulator import (
    SimulatedAccount,
    SimulatedCheckoutSession,
    SimulatedDispute,
    SimulatedRefund,
    SimulatedTransfer,
    SimulatedTransferReversal,
    simulator_dispute_close,
    simulator_dispute_open,
    simulator_refund_outside,
    simulator_session_pay,
)
from refunds.models import RefundRequest
from refunds.services import (
    refund_line_initiate,
    refund_request_approve,
    refund_request_create,
    refund_request_decline,
)
from tests.catalog.factories import ProductFactory
from tests.factories import UserFactory
from tests.orders.factories import SIM_SHIPPING

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("REFUND_SM_EXAMPLES", "12"))
STEPS = int(os.environ.get("REFUND_SM_STEPS", "18"))


def _settled():
    """Run a step and everything it queues after commit (tasks, webhooks)."""
    return TestCase.captureOnCommitCallbacks(execute=True)


class RefundMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.buyers = {}
        self.staff = UserFactory(is_staff=True)
        self.products = [
            ProductFactory(
                status="PUBLISHED",
                complete=True,
                seller_ready=True,
                physical=True,
                stock_quantity=50,
                price_cents=3000,
                shipping_cents=450,
            ),
            ProductFactory(status="PUBLISHED", complete=True, seller_ready=True, price_cents=1299),
            ProductFactory(status="PUBLISHED", complete=True, seller_ready=True, price_cents=0),
            ProductFactory(
                status="PUBLISHED",
                complete=True,
                seller_ready=True,
                physical=True,
                stock_quantity=50,
                price_cents=777,
                shipping_cents=0,
            ),
        ]
        self.orders: list[int] = []

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- helpers --------------------------------------------------------------------------
    def _lines(self) -> list[OrderItem]:
        return list(
            OrderItem.objects.filter(order_id__in=self.orders)
            .select_related("order", "seller")
            .order_by("pk")
        )

    def _session(self, order_id: int) -> SimulatedCheckoutSession:
        return SimulatedCheckoutSession.objects.get(order_id=order_id)

    # --- rules ----------------------------------------------------------------------------
    @rule(picks=st.sets(st.integers(0, 3), min_size=1, max_size=4))
    def sell(self, picks):
        products = [self.products[i] for i in sorted(picks)]
        if all(p.price_cents == 0 for p in products):
            products.append(self.products[1])
        buyer = UserFactory()  # a file is bought once per buyer
        self.buyers[buyer.pk] = buyer
        order = order_create_from_cart(
            cart={str(p.pk): 1 for p in products},
            buyer=buyer,
            email=buyer.email,
            ship_to_country="US",
        )
        checkout_start(order=order, success_url="http://t/ok/", cancel_url="http://t/cart/")
        order.refresh_from_db()
        with _settled():
            simulator_session_pay(
                session_id=order.stripe_checkout_session_id, shipping=SIM_SHIPPING
            )
        self.orders.append(order.pk)

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), partial=st.booleans(), approve=st.booleans())
    def buyer_asks(self, data, partial, approve):
        lines = [i for i in self._lines() if i.total_cents and not hasattr(i, "refund_request")]
        if not lines:
            return
        line = data.draw(st.sampled_from(lines))
        most = line_refundable_cents(line)
        if most <= 0:
            return
        amount = data.draw(st.integers(1, most)) if partial else None
        try:
            with _settled():
                request = refund_request_create(
                    item=line,
                    requested_by=self.buyers[line.order.buyer_id],
                    reason="DAMAGED",
                    amount_cents=amount,
                )
        except ApplicationError:
            return
        if request.status != RefundRequest.Status.REQUESTED:
            return
        try:
            with _settled():
                if approve:
                    cut = data.draw(st.integers(1, request.requested_amount_cents))
                    refund_request_approve(request=request, actor=line.seller, amount_cents=cut)
                else:
                    refund_request_decline(request=request, actor=line.seller, note="No.")
        except ApplicationError:
            pass

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), by_staff=st.booleans())
    def seller_or_staff_refunds(self, data, by_staff):
        lines = [i for i in self._lines() if line_refundable_cents(i) > 0]
        if not lines:
            return
        line = data.draw(st.sampled_from(lines))
        amount = data.draw(st.integers(1, line_refundable_cents(line)))
        actor = self.staff if by_staff else line.seller
        try:
            with _settled():
                refund_line_initiate(item=line, actor=actor, amount_cents=amount, note="Sorry")
        except ApplicationError:
            pass

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), whole=st.booleans())
    def dashboard_refund(self, data, whole):
        order_id = data.draw(st.sampled_from(self.orders))
        session = self._session(order_id)
        left = session.amount_total - (
            SimulatedRefund.objects.filter(payment_intent=session.payment_intent).aggregate(
                s=Sum("amount")
            )["s"]
            or 0
        )
        if (
            left <= 0
            or PaymentRefund.objects.filter(
                order_id=order_id, status=PaymentRefund.Status.PENDING
            ).exists()
        ):
            return
        amount = None if whole else data.draw(st.integers(1, left))
        with _settled():
            simulator_refund_outside(session_id=session.id, amount_cents=amount)
        # staff allocate a partial one to lines that have that much left
        for refund in PaymentRefund.objects.filter(order_id=order_id, needs_allocation=True):
            allocations, rest = {}, refund.amount_cents
            for line in OrderItem.objects.filter(order_id=order_id).order_by("pk"):
                if rest <= 0:
                    break
                take = min(rest, line_refundable_cents(line))
                if take > 0:
                    allocations[line.pk] = take
                    rest -= take
            if rest == 0:
                with _settled():
                    payment_refund_allocate(refund_id=refund.pk, allocations=allocations)

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), whole=st.booleans())
    def dispute_opens(self, data, whole):
        order_id = data.draw(st.sampled_from(self.orders))
        session = self._session(order_id)
        if SimulatedDispute.objects.filter(payment_intent=session.payment_intent).exists():
            return
        refunded = (
            SimulatedRefund.objects.filter(payment_intent=session.payment_intent).aggregate(
                s=Sum("amount")
            )["s"]
            or 0
        )
        left = session.amount_total - refunded
        if left <= 0:
            return
        amount = left if whole else data.draw(st.integers(1, left))
        with _settled():
            simulator_dispute_open(session_id=session.id, amount_cents=amount)

    @precondition(lambda self: SimulatedDispute.objects.filter(status="needs_response").exists())
    @rule(data=st.data(), won=st.booleans())
    def dispute_closes(self, data, won):
        dispute = data.draw(
            st.sampled_from(list(SimulatedDispute.objects.filter(status="needs_response")))
        )
        with _settled():
            simulator_dispute_close(dispute_id=dispute.id, won=won)

    @rule(data=st.data(), short=st.booleans())
    def seller_balance_short(self, data, short):
        product = data.draw(st.sampled_from(self.products))
        SimulatedAccount.objects.filter(seller_id=product.seller_id).update(reversals_refused=short)

    @precondition(lambda self: StripeEvent.objects.exists())
    @rule(data=st.data())
    def replay_an_event(self, data):
        row_id = data.draw(st.sampled_from(list(StripeEvent.objects.values_list("pk", flat=True))))
        stripe_event_reset(event_row_id=row_id)
        with _settled():
            stripe_event_process(event_row_id=row_id)

    # --- invariants -----------------------------------------------------------------------
    @invariant()
    def ledgers_reconcile_and_balances_are_explained(self):
        report = reconcile()
        assert report.drifts == [], report.drifts
        open_orders = {(i.order_id, i.seller_id) for i in report.open_items}
        owed = defaultdict(int)
        for order_id, seller_id, total in (
            SellerBalanceEntry.objects.values_list("order_id", "seller_id")
            .annotate(total=Sum("amount_cents"))
            .values_list("order_id", "seller_id", "total")
        ):
            owed[seller_id] += total
            if total:
                assert (order_id, seller_id) in open_orders, (order_id, seller_id, total)
        for seller_id, balance in owed.items():
            direct = (
                SellerBalanceEntry.objects.filter(seller_id=seller_id).aggregate(
                    s=Sum("amount_cents")
                )["s"]
                or 0
            )
            assert balance == direct

    @invariant()
    def nothing_goes_back_twice(self):
        for session in SimulatedCheckoutSession.objects.filter(payment_status="paid"):
            stripe_refunds = (
                SimulatedRefund.objects.filter(payment_intent=session.payment_intent).aggregate(
                    s=Sum("amount")
                )["s"]
                or 0
            )
            assert stripe_refunds <= session.amount_total
            ours = (
                PaymentRefund.objects.filter(
                    payment_intent_id=session.payment_intent,
                    status__in=[PaymentRefund.Status.SUCCEEDED, PaymentRefund.Status.PENDING],
                )
                .exclude(stripe_refund_id__isnull=True)
                .aggregate(s=Sum("amount_cents"))["s"]
                or 0
            )
            assert ours == stripe_refunds
        for line in OrderItem.objects.all():
            assert 0 <= line.refunded_cents <= line.total_cents
        for transfer in SimulatedTransfer.objects.all():
            taken = (
                SimulatedTransferReversal.objects.filter(transfer=transfer).aggregate(
                    s=Sum("amount")
                )["s"]
                or 0
            )
            assert taken <= transfer.amount
        for transfer in SellerTransfer.objects.filter(status=SellerTransfer.Status.CREATED):
            taken = (
                SellerTransferReversal.objects.filter(
                    transfer=transfer, status=SellerTransferReversal.Status.CREATED
                ).aggregate(s=Sum("amount_cents"))["s"]
                or 0
            )
            assert taken <= transfer.amount_cents
        assert Dispute.objects.count() == SimulatedDispute.objects.count()


def test_refunds_disputes_and_negative_balances_keep_the_ledger_explained():
    run_state_machine_as_test(
        RefundMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
