"""Staff money pages (payments): reconciliation per order, the drift list, the CSV
export, disputes, and the simulator's money page (test mode only)."""

import csv
import io
from datetime import datetime

import pytest
from django.utils import timezone

from orders.models import Order
from payments.models import Dispute, PaymentRefund, SellerBalanceEntry
from payments.simulator import SimulatedDispute, simulated_processing_fee
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, world):
    client.force_login(world.staff)
    return client


def _plant_adjustment(order, seller) -> None:
    """A stray ledger row: drift (the seller is owed money nobody sends)."""
    SellerBalanceEntry.objects.create(
        seller=seller,
        order=order,
        amount_cents=100,
        currency=order.currency,
        reason=SellerBalanceEntry.Reason.ADJUSTMENT,
        idempotency_key=f"adjustment-test-{order.pk}",
        description="Planted by a test",
    )


def test_reconciliation_page_says_balanced_then_drift_after_a_stray_row(staff_client, world):
    url = f"/staff/reconciliation/orders/{world.order.pk}/"
    # given a healthy paid order
    healthy = staff_client.get(url).content.decode()
    # when a stray ADJUSTMENT row is planted on it
    _plant_adjustment(world.order, world.seller)
    drifted = staff_client.get(url).content.decode()
    # then the page said Balanced, and now says Drift with the problem
    assert 'data-verdict="balanced"' in healthy and 'data-verdict="drift"' not in healthy
    assert 'data-verdict="drift"' in drifted and 'data-verdict="balanced"' not in drifted
    assert "Drift: this order's money disagrees with itself" in drifted
    # and it shows the lines, both ledgers, the transfers and the margin
    for text in ("Painted Dragon", "Spiral Vase", "Sale", "Transfer to Stripe", "Adjustment"):
        assert text in healthy or text in drifted
    for text in ("Painted Dragon", "Spiral Vase", "Sale", "Transfer to Stripe"):
        assert text in healthy and text in drifted
    assert "Adjustment" in drifted and "Adjustment" not in healthy
    assert "simulator: refund or dispute this order" in healthy


def test_reconciliation_list_names_the_orders_with_drift(staff_client, world):
    before = staff_client.get("/staff/reconciliation/").content.decode()
    _plant_adjustment(world.order, world.seller)
    after = staff_client.get("/staff/reconciliation/").content.decode()
    link = f'href="/staff/reconciliation/orders/{world.order.pk}/"'
    assert link not in before and "No order has drift." in before
    assert link in after


def test_reconciliation_page_of_a_missing_order_is_a_404(staff_client, world):
    assert staff_client.get("/staff/reconciliation/orders/999999/").status_code == 404


def test_csv_export_lists_the_orders_paid_in_the_range(staff_client, world, paid):
    # given the two-seller order paid on 10 March, and another paid on 20 March
    other = paid(
        ProductFactory(status="PUBLISHED", complete=True, seller_ready=True, price_cents=800)
    )
    tz = timezone.get_current_timezone()
    Order.objects.filter(pk=world.order.pk).update(paid_at=datetime(2026, 3, 10, 12, 0, tzinfo=tz))
    Order.objects.filter(pk=other.pk).update(paid_at=datetime(2026, 3, 20, 9, 0, tzinfo=tz))
    # and a stray row on the second
    _plant_adjustment(other, other.items.get().seller)
    # when staff export 1–15 March, then 1–31 March
    first = staff_client.get(
        "/staff/reconciliation/export.csv?date_from=2026-03-01&date_to=2026-03-15"
    )
    whole = staff_client.get(
        "/staff/reconciliation/export.csv?date_from=2026-03-01&date_to=2026-03-31"
    )
    # then the first has the one order: $47 total, 10% fee, Stripe's fee, no refund,
    # sellers' $32 + $10.80, no drift
    assert first.status_code == 200
    assert first["Content-Type"] == "text/csv; charset=utf-8"
    assert first["Content-Disposition"] == (
        'attachment; filename="reconciliation-20260301-20260315.csv"'
    )
    stripe_fee = simulated_processing_fee(4700)
    rows = list(csv.reader(io.StringIO(first.content.decode())))
    paid_at = timezone.localtime(Order.objects.get(pk=world.order.pk).paid_at).isoformat()
    assert rows == [
        [
            "order_id",
            "paid_at",
            "currency",
            "total_cents",
            "marketplace_fee_cents",
            "processing_fee_cents",
            "refunded_cents",
            "seller_shares_cents",
            "platform_margin_cents",
            "drift",
        ],
        [
            str(world.order.pk),
            paid_at,
            "usd",
            "4700",
            "420",
            str(-stripe_fee),
            "0",
            "4280",
            str(420 - stripe_fee),
            "no",
        ],
    ]
    # and the whole month adds the second order, marked with its drift
    whole_rows = list(csv.reader(io.StringIO(whole.content.decode())))
    assert [(r[0], r[-1]) for r in whole_rows[1:]] == [
        (str(world.order.pk), "no"),
        (str(other.pk), "yes"),
    ]


def test_csv_export_counts_refunds(staff_client, world, django_capture_on_commit_callbacks):
    # given $5 refunded from the Stripe dashboard
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            f"/payments/simulator/orders/{world.order.pk}/money/",
            {"action": "refund", "amount": "5.00"},
        )
    day = timezone.localdate(world.order.paid_at).isoformat()
    # when staff export that day
    response = staff_client.get(f"/staff/reconciliation/export.csv?date_from={day}&date_to={day}")
    # then the refund shows
    [_, row] = list(csv.reader(io.StringIO(response.content.decode())))
    assert row[6] == "500"


def test_csv_export_with_a_backwards_range_is_a_400(staff_client, world):
    response = staff_client.get(
        "/staff/reconciliation/export.csv?date_from=2026-03-15&date_to=2026-03-01"
    )
    assert response.status_code == 400
    assert "The start date must be on or before the end date." in response.content.decode()


def test_simulator_page_refunds_part_of_the_charge_from_the_dashboard(
    staff_client, world, django_capture_on_commit_callbacks
):
    url = f"/payments/simulator/orders/{world.order.pk}/money/"
    # when staff make a $7.50 dashboard refund
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, {"action": "refund", "amount": "7.50"})
    # then it arrived through the webhook as an outside refund needing allocation
    refund = PaymentRefund.objects.get()
    assert response["Location"] == url
    assert (refund.reason, refund.amount_cents, refund.needs_allocation) == (
        "OUTSIDE",
        750,
        True,
    )


def test_simulator_page_refuses_more_than_the_charge_with_a_400(staff_client, world):
    response = staff_client.post(
        f"/payments/simulator/orders/{world.order.pk}/money/",
        {"action": "refund", "amount": "47.01"},
    )
    assert response.status_code == 400
    assert "The refund exceeds what remains of the charge." in response.content.decode()
    assert PaymentRefund.objects.count() == 0


def test_simulator_page_opens_a_dispute_and_wins_it(
    staff_client, world, django_capture_on_commit_callbacks
):
    url = f"/payments/simulator/orders/{world.order.pk}/money/"
    # when staff open a dispute for the whole charge
    with django_capture_on_commit_callbacks(execute=True):
        opened = staff_client.post(url, {"action": "dispute", "amount": ""})
    dispute = Dispute.objects.get()
    listed = staff_client.get("/staff/disputes/").content.decode()
    # and win it
    simulated = SimulatedDispute.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        won = staff_client.post(url, {"action": "win", "dispute_id": simulated.id})
    dispute.refresh_from_db()
    # then the dispute was open (listed with its order and amount), and is won
    assert opened.status_code == 302 and won.status_code == 302
    assert f'href="/staff/reconciliation/orders/{world.order.pk}/"' in listed
    assert "$47.00" in listed and "Needs a response" in listed
    assert (dispute.amount_cents, dispute.status) == (4700, "won")


def test_simulator_page_cannot_close_a_closed_dispute(
    staff_client, world, django_capture_on_commit_callbacks
):
    url = f"/payments/simulator/orders/{world.order.pk}/money/"
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(url, {"action": "dispute"})
        simulated = SimulatedDispute.objects.get()
        staff_client.post(url, {"action": "lose", "dispute_id": simulated.id})
    response = staff_client.post(url, {"action": "win", "dispute_id": simulated.id})
    assert response.status_code == 400
    assert Dispute.objects.get().status == "lost"


def test_disputes_list_puts_open_disputes_first(staff_client, world, paid):
    # given a lost dispute on one order, then an open one on another
    other = paid(
        ProductFactory(status="PUBLISHED", complete=True, seller_ready=True, price_cents=900)
    )
    Dispute.objects.create(
        stripe_dispute_id="dp_closed",
        order=world.order,
        charge_id="ch_1",
        amount_cents=4700,
        currency="usd",
        status="lost",
    )
    Dispute.objects.create(
        stripe_dispute_id="dp_open",
        order=other,
        charge_id="ch_2",
        amount_cents=900,
        currency="usd",
        status="needs_response",
        evidence_due_by=timezone.now(),
    )
    # when staff open the list
    body = staff_client.get("/staff/disputes/").content.decode()
    # then the open one comes first
    assert body.index("dp_open") < body.index("dp_closed")


def test_an_export_range_past_the_calendar_is_a_400_not_a_500(staff_client):
    response = staff_client.get(
        "/staff/reconciliation/export.csv", {"date_from": "2020-01-01", "date_to": "9999-12-31"}
    )
    assert response.status_code == 400
    assert "before the year 9000" in response.content.decode()
