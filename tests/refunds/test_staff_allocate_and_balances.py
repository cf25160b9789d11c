"""What staff and buyers see of money going back: allocating a dashboard refund to lines,
a seller's short Stripe balance made in test mode, sellers who owe, the refunded amounts
on the buyer's order page and the seller's payouts page, and the refund policy shown at
checkout and on the order page."""

import io

import pytest
from django.core.management import call_command

from payments.models import PaymentRefund, SellerBalanceEntry
from payments.reconcile import reconcile_ledger
from payments.simulator import SimulatedAccount, simulator_refund_outside
from refunds.services import refund_line_initiate

pytestmark = pytest.mark.django_db


class _Runner:
    """Run a service, and everything it queues after commit (tasks, webhooks)."""

    def __init__(self, capture):
        self._capture = capture

    def __call__(self, fn, *args, **kwargs):
        with self._capture(execute=True):
            return fn(*args, **kwargs)

    def capture(self):
        return self._capture(execute=True)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    return _Runner(django_capture_on_commit_callbacks)


def test_staff_allocate_a_partial_dashboard_refund_to_a_line(client, world, run):
    # given a $5 refund made in the Stripe dashboard: drift until it is allocated
    run(
        simulator_refund_outside,
        session_id=world.order.stripe_checkout_session_id,
        amount_cents=500,
    )
    refund = PaymentRefund.objects.get(reason="OUTSIDE")
    assert refund.needs_allocation
    assert any("$5.00 made outside" in d.problem for d in reconcile_ledger()[1])
    client.force_login(world.staff)
    page = client.get(f"/staff/reconciliation/orders/{world.order.pk}/")
    assert f"/staff/reconciliation/refunds/{refund.pk}/allocate/" in page.content.decode()
    url = f"/staff/reconciliation/refunds/{refund.pk}/allocate/"
    # when staff give amounts that do not add up, nothing is posted
    response = client.post(url, {f"line_{world.file_line.pk}": "4.00"})
    assert response.status_code == 400
    assert "add up to the refund" in response.content.decode()
    assert not SellerBalanceEntry.objects.filter(reason="REFUND").exists()
    # when they allocate it to the file line
    with run.capture():
        response = client.post(url, {f"line_{world.file_line.pk}": "5.00"})
    # then it is posted, the seller's share taken back, and the ledger reconciles
    assert response.status_code == 302
    refund.refresh_from_db()
    world.file_line.refresh_from_db()
    assert (refund.needs_allocation, world.file_line.refunded_cents) == (False, 500)
    assert SellerBalanceEntry.objects.filter(reason="REFUND", seller=world.file_seller).exists()
    assert reconcile_ledger() == (1, [])
    # and the allocation is on the staff audit trail
    from moderation.models import StaffActionLog

    audit = StaffActionLog.objects.get(action="refund.allocate")
    assert audit.actor == world.staff
    assert audit.after["allocations"] == {str(world.file_line.pk): 500}
    # and nothing is left to allocate: the page is gone
    assert client.get(url).status_code == 404


def test_non_staff_cannot_allocate(client, world, run):
    run(
        simulator_refund_outside,
        session_id=world.order.stripe_checkout_session_id,
        amount_cents=500,
    )
    refund = PaymentRefund.objects.get(reason="OUTSIDE")
    client.force_login(world.seller)
    url = f"/staff/reconciliation/refunds/{refund.pk}/allocate/"
    assert client.post(url, {f"line_{world.line.pk}": "5.00"}).status_code == 404
    assert PaymentRefund.objects.get(pk=refund.pk).needs_allocation


def test_a_short_balance_made_in_test_mode_leaves_a_seller_owing(client, world, run):
    client.force_login(world.staff)
    url = f"/payments/simulator/orders/{world.order.pk}/money/"
    response = client.post(url, {"action": "balance_short", "seller_id": world.seller.pk})
    assert response.status_code == 302
    assert SimulatedAccount.objects.get(seller_id=world.seller.pk).reversals_refused
    # a seller who is not on this order cannot be touched from its page
    other = client.post(url, {"action": "balance_short", "seller_id": world.other_seller.pk})
    assert other.status_code == 400
    run(refund_line_initiate, item=world.line, actor=world.staff, amount_cents=1000, note="Bent")
    page = client.get("/staff/reconciliation/").content.decode()
    assert "Sellers who owe the marketplace" in page
    assert world.seller.email in page and "$9.00" in page


def test_the_buyer_and_the_seller_see_the_refunded_amounts(client, world, run):
    run(refund_line_initiate, item=world.line, actor=world.seller, amount_cents=1000, note="")
    client.force_login(world.buyer)
    order_page = client.get(f"/orders/{world.order.pk}/").content.decode()
    assert "Refunded $10.00" in order_page
    assert "You paid" in order_page and "$37.00" in order_page
    assert "You can ask for a refund within 14 days" in order_page
    client.force_login(world.seller)
    payouts = client.get("/seller/payouts/ledger/").content.decode()
    assert "Refunds &amp; disputes" in payouts
    assert "-$9.00" in payouts  # the seller's share of the $10 (net part of the item)


def test_the_refund_policy_is_shown_at_checkout(client, world):
    from tests.catalog.factories import ProductFactory

    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True, price_cents=900)
    client.post("/cart/add/", {"product_id": product.pk, "quantity": 1})
    page = client.get("/checkout/").content.decode()
    assert "You can ask for a refund within 14 days" in page


def test_abandoned_checkouts_are_not_sales(client, world):
    from orders.services import order_cancel, order_create_from_cart

    abandoned = order_create_from_cart(
        cart={str(world.line.product_id): 1},
        buyer=None,
        email="x@example.com",
        ship_to_country="US",
    )
    order_cancel(order_id=abandoned.pk)
    client.force_login(world.seller)
    page = client.get("/seller/sales/").content.decode()
    assert f"#{world.order.pk}" in page
    assert f"#{abandoned.pk}" not in page


def test_demo_sellers_are_paid_through_the_simulator(django_capture_on_commit_callbacks):
    from catalog.models import Product
    from marketplace.models import User
    from orders.services import order_create_from_cart
    from payments.checkout import checkout_start
    from payments.models import SellerTransfer
    from payments.simulator import simulator_session_pay

    call_command("seed_demo", stdout=io.StringIO())
    seller = User.objects.get(email="maple@demo.homecraft3d.test")
    product = Product.objects.filter(
        seller=seller, status="PUBLISHED", kind="FILE", price_cents__gt=0
    ).first()
    order = order_create_from_cart(cart={str(product.pk): 1}, buyer=None, email="g@example.com")
    checkout_start(order=order, success_url="http://t/", cancel_url="http://t/")
    order.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        simulator_session_pay(session_id=order.stripe_checkout_session_id)
    assert SellerTransfer.objects.get(order=order).status == "CREATED"
    call_command("sync_connect_accounts", stdout=io.StringIO())
    assert seller.stripe_account.__class__.objects.get(seller=seller).is_ready
