"""Guarded manual reprocessing of a Stripe event: staff only, a reason, audited, and
idempotent (a processed event changes nothing; a failed one is processed once)."""

from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from moderation.models import StaffActionLog
from orders.services import order_create_from_cart
from payments.checkout import checkout_start
from payments.gateway import GatewayError
from payments.models import SellerBalanceEntry, StripeEvent
from payments.reprocess import stripe_event_reprocess
from payments.simulator import SimulatorGateway, simulator_session_pay
from tests.catalog.factories import ProductFactory
from tests.factories import UserFactory
from tests.orders.factories import SIM_SHIPPING

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_payment(django_capture_on_commit_callbacks):
    """A paid checkout whose event failed (Stripe was down while re-fetching)."""
    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True, price_cents=1500)
    order = order_create_from_cart(
        cart={str(product.pk): 1}, buyer=None, email="b@example.com", ship_to_country="US"
    )
    checkout_start(order=order, success_url="http://t/ok/", cancel_url="http://t/cart/")
    order.refresh_from_db()
    with (
        mock.patch.object(
            SimulatorGateway, "retrieve_checkout_session", side_effect=GatewayError("Stripe down")
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        simulator_session_pay(session_id=order.stripe_checkout_session_id, shipping=SIM_SHIPPING)
    row = StripeEvent.objects.get(type="checkout.session.completed")
    assert row.status == "FAILED" and "Stripe down" in row.last_error
    return order, row


def _logs():
    return StaffActionLog.objects.filter(action="stripe_event.reprocess")


def test_staff_reprocess_a_failed_event_once_and_the_audit_log_records_it(
    client, failed_payment, django_capture_on_commit_callbacks
):
    order, row = failed_payment
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    url = reverse("payments:staff-stripe-event-reprocess", kwargs={"pk": row.pk})
    # the confirmation page shows the event and its error
    page = client.get(url).content.decode()
    assert row.stripe_event_id in page and "Stripe down" in page
    # when staff confirm with a reason
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": "Stripe outage over"}, follow=True)
    # then the order is paid, the ledger posted once, and the log says who and why
    assert f"Event {row.stripe_event_id} processed" in response.content.decode()
    row.refresh_from_db()
    order.refresh_from_db()
    assert (row.status, order.status) == ("PROCESSED", "PAID")
    sale_rows = SellerBalanceEntry.objects.filter(order=order).count()
    assert sale_rows > 0
    log = _logs().get()
    assert (log.actor, log.reason, log.target_id) == (staff, "Stripe outage over", str(row.pk))
    assert log.before["status"] == "FAILED" and log.after["status"] == "PROCESSED"
    # and reprocessing it again changes nothing and says so
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(url, {"reason": "double check"}, follow=True)
    assert "was already processed: nothing changed" in again.content.decode()
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("PROCESSED", log.after["attempts"])
    assert SellerBalanceEntry.objects.filter(order=order).count() == sale_rows
    assert _logs().count() == 2
    assert _logs().latest("id").after == {"status": "PROCESSED", "attempts": row.attempts}


def test_a_reason_is_required_and_nothing_happens_without_one(client, failed_payment):
    _order, row = failed_payment
    client.force_login(UserFactory(is_staff=True))
    url = reverse("payments:staff-stripe-event-reprocess", kwargs={"pk": row.pk})
    response = client.post(url, {"reason": "   "})
    assert response.status_code == 400
    row.refresh_from_db()
    assert (row.status, _logs().count()) == ("FAILED", 0)


def test_only_staff_may_reprocess(client, failed_payment):
    _order, row = failed_payment
    url = reverse("payments:staff-stripe-event-reprocess", kwargs={"pk": row.pk})
    assert client.get(url).status_code == 302  # anonymous: log in
    assert client.post(url, {"reason": "x"}).status_code == 302
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    assert client.post(url, {"reason": "x"}).status_code == 404
    with pytest.raises(Exception, match="Only staff"):
        stripe_event_reprocess(actor=UserFactory(), event=row, reason="x")
    row.refresh_from_db()
    assert (row.status, _logs().count()) == ("FAILED", 0)
    client.force_login(UserFactory(is_staff=True))
    missing = reverse("payments:staff-stripe-event-reprocess", kwargs={"pk": row.pk + 999})
    assert client.get(missing).status_code == 404


def test_the_command_is_the_same_guarded_reprocessing(
    failed_payment, capsys, django_capture_on_commit_callbacks
):
    order, row = failed_payment
    staff = UserFactory(is_staff=True, email="ops@example.com")
    with pytest.raises(CommandError, match="No staff account"):
        call_command("reprocess_stripe_event", row.stripe_event_id, reason="x", actor="no@x.com")
    with pytest.raises(CommandError, match="No stored Stripe event"):
        call_command("reprocess_stripe_event", "evt_nope", reason="x", actor=staff.email)
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "reprocess_stripe_event", row.stripe_event_id, reason="replay", actor="OPS@example.com"
        )
    assert "processed: PROCESSED" in capsys.readouterr().out
    order.refresh_from_db()
    assert order.status == "PAID"
    call_command("reprocess_stripe_event", str(row.pk), reason="again", actor=staff.email)
    assert "nothing changed" in capsys.readouterr().out
    assert list(_logs().order_by("id").values_list("actor__email", "reason")) == [
        ("ops@example.com", "replay"),
        ("ops@example.com", "again"),
    ]


def test_an_event_that_fails_again_stays_failed_and_is_logged(client, failed_payment):
    _order, row = failed_payment
    staff = UserFactory(is_staff=True)
    with mock.patch.object(
        SimulatorGateway, "retrieve_checkout_session", side_effect=GatewayError("still down")
    ):
        result = stripe_event_reprocess(actor=staff, event=row, reason="try")
    assert (result.changed, result.status) == (False, "FAILED")
    assert "failed again" in result.message and "still down" in result.message
    assert _logs().get().after["error"].endswith("still down")


# --- rotating the webhook secret -------------------------------------------------------
def test_a_previous_webhook_secret_is_accepted_while_listed_as_a_fallback(
    settings, deliver, django_capture_on_commit_callbacks
):
    from tests.payments.stripe_http import fixture

    settings.STRIPE_WEBHOOK_SECRET = "whsec_new"
    settings.STRIPE_WEBHOOK_SECRET_FALLBACKS = ["whsec_old"]
    event = fixture("event_charge_refunded")
    with django_capture_on_commit_callbacks(execute=False):
        assert deliver(event, secret="whsec_old").status_code == 200
        assert deliver({**event, "id": "evt_other"}, secret="whsec_new").status_code == 200
        assert deliver({**event, "id": "evt_x"}, secret="whsec_unknown").status_code == 400
    settings.STRIPE_WEBHOOK_SECRET_FALLBACKS = []
    with django_capture_on_commit_callbacks(execute=False):
        assert deliver({**event, "id": "evt_y"}, secret="whsec_old").status_code == 400
    assert sorted(StripeEvent.objects.values_list("stripe_event_id", flat=True)) == sorted(
        [event["id"], "evt_other"]
    )
