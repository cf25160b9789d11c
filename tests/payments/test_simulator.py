"""The local payment simulator end to end: test checkout page → signed Stripe-shaped event
→ our webhook view → processing → order services. Also the event handlers' rules
(re-fetch, async payments, out-of-order events), driven through the simulator's state."""

from datetime import timedelta

import pytest
import stripe
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone

from catalog.models import Product
from orders.models import Order, OrderEvent
from orders.services import order_create_from_cart
from payments import webhooks
from payments.checkout import checkout_start
from payments.gateway import STRIPE_API_VERSION, LineItem
from payments.models import SellerTransfer, StripeEvent
from payments.simulator import (
    DECLINE_MESSAGE,
    SimulatedAccount,
    SimulatedCheckoutSession,
    SimulatorGateway,
    event_build,
    session_object,
    simulator_sessions_expire_due,
)
from tests.catalog.factories import ProductFactory
from tests.factories import UserFactory
from tests.orders.factories import SIM_SHIPPING

pytestmark = pytest.mark.django_db

SUCCESS = "http://testserver/orders/thanks/?session={CHECKOUT_SESSION_ID}"
CANCEL = "http://testserver/cart/"


def _order(*, physical: bool = False, quantity: int = 1, stock: int = 5) -> Order:
    extra = {"physical": True, "stock_quantity": stock} if physical else {}
    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True, **extra)
    return order_create_from_cart(
        cart={str(product.pk): quantity},
        buyer=None,
        email="buyer@example.com",
        ship_to_country="US",
    )


def _checkout(order: Order) -> tuple[str, SimulatedCheckoutSession]:
    redirect = checkout_start(order=order, success_url=SUCCESS, cancel_url=CANCEL)
    order.refresh_from_db()
    return redirect.url, SimulatedCheckoutSession.objects.get(pk=order.stripe_checkout_session_id)


def test_the_test_checkout_page_is_clearly_labelled_and_shows_the_order(client):
    order = _order()
    url, session = _checkout(order)
    assert url == f"/payments/simulator/checkout/{session.id}/"
    html = client.get(url).content.decode()
    assert "TEST MODE — no real payment" in html
    assert "Pay (simulated card)" in html
    assert "Decline" in html
    assert "Let it expire" in html
    assert "$5.00" in html  # the factory's price, the order total
    assert session.amount_total == order.total_cents == 500
    assert (session.order_id, session.email, session.currency) == (order.pk, order.email, "usd")


def test_paying_marks_the_order_paid_through_the_signed_webhook(
    client, django_capture_on_commit_callbacks
):
    # given a pending order at the test checkout
    order = _order()
    url, session = _checkout(order)
    # when the buyer pays with the simulated card
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"action": "pay", **SIM_SHIPPING})
    # then they land on the success URL, with the session id filled in as Stripe does
    assert response.status_code == 302
    assert response["Location"] == f"http://testserver/orders/thanks/?session={session.id}"
    # and the event went through our webhook and was processed
    row = StripeEvent.objects.get()
    assert (row.type, row.endpoint, row.status, row.attempts) == (
        "checkout.session.completed",
        "platform",
        "PROCESSED",
        1,
    )
    session.refresh_from_db()
    order.refresh_from_db()
    assert (session.status, session.payment_status) == ("complete", "paid")
    assert session.payment_intent.startswith("pi_sim_")
    assert session.charge.startswith("ch_sim_")
    assert order.status == "PAID"
    assert (order.stripe_payment_intent_id, order.stripe_charge_id) == (
        session.payment_intent,
        session.charge,
    )
    # and the seller was paid out with a simulated transfer
    transfer = SellerTransfer.objects.get(order=order)
    assert transfer.status == "CREATED"
    assert transfer.stripe_transfer_id.startswith("tr_sim_")


def test_paying_twice_sends_one_event(client, django_capture_on_commit_callbacks):
    order = _order()
    url, session = _checkout(order)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "pay", **SIM_SHIPPING})
        again = client.post(url, {"action": "pay", **SIM_SHIPPING})
    assert again["Location"] == f"http://testserver/orders/thanks/?session={session.id}"
    assert StripeEvent.objects.count() == 1
    assert Order.objects.get(pk=order.pk).events.filter(kind="PAID").count() == 1


def test_the_emitted_event_is_stripe_shaped_and_verifies_with_the_stripe_library(
    client, settings, monkeypatch, django_capture_on_commit_callbacks
):
    # given we record what the simulator hands to the webhook view
    delivered = []
    real_view = webhooks.stripe_webhook_platform

    def recording_view(request):
        delivered.append((request.body, request.headers["Stripe-Signature"]))
        return real_view(request)

    monkeypatch.setattr(webhooks, "stripe_webhook_platform", recording_view)
    order = _order()
    url, session = _checkout(order)
    # when the buyer pays
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "pay", **SIM_SHIPPING})
    # then stripe-python itself accepts the signature with our webhook secret
    [(body, header)] = delivered
    assert header.startswith("t=") and ",v1=" in header
    event = stripe.Webhook.construct_event(body, header, settings.STRIPE_WEBHOOK_SECRET)
    assert stripe.WebhookSignature.verify_header(body, header, settings.STRIPE_WEBHOOK_SECRET)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(body, header, "whsec_someone_else")
    # and the event has Stripe's shape
    session.refresh_from_db()
    assert event.id.startswith("evt_sim_")
    assert (event.object, event.type, event.api_version, event.livemode) == (
        "event",
        "checkout.session.completed",
        STRIPE_API_VERSION,
        False,
    )
    assert isinstance(event.created, int)
    obj = event.data.object
    assert (obj.id, obj.object, obj.status, obj.payment_status) == (
        session.id,
        "checkout.session",
        "complete",
        "paid",
    )
    assert (obj.payment_intent, obj.client_reference_id, obj.metadata.order_id) == (
        session.payment_intent,
        str(order.pk),
        str(order.pk),
    )
    assert (obj.amount_total, obj.currency, obj.customer_email) == (500, "usd", "buyer@example.com")


def test_a_declined_card_notes_the_attempt_and_keeps_the_checkout_open(
    client, django_capture_on_commit_callbacks
):
    order = _order()
    url, session = _checkout(order)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"action": "decline"})
    # back to the same page, with the decline message
    assert response["Location"] == url
    assert DECLINE_MESSAGE in client.get(url).content.decode()
    row = StripeEvent.objects.get()
    assert (row.type, row.status) == ("payment_intent.payment_failed", "PROCESSED")
    assert row.payload["data"]["object"]["metadata"] == {"order_id": str(order.pk)}
    order.refresh_from_db()
    session.refresh_from_db()
    assert (order.status, session.status) == ("PENDING", "open")
    assert list(order.events.filter(kind="PAYMENT_FAILED").values_list("message", flat=True)) == [
        DECLINE_MESSAGE
    ]


def test_letting_it_expire_expires_the_order_and_releases_the_stock(
    client, django_capture_on_commit_callbacks
):
    order = _order(physical=True, quantity=2, stock=3)
    product = Product.objects.get(pk=order.items.get().product_id)
    assert product.stock_quantity == 1  # reserved at order creation
    url, session = _checkout(order)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"action": "expire"})
    assert response["Location"] == CANCEL
    order.refresh_from_db()
    product.refresh_from_db()
    session.refresh_from_db()
    assert (session.status, order.status, product.stock_quantity) == ("expired", "EXPIRED", 3)
    assert StripeEvent.objects.get().type == "checkout.session.expired"


def test_an_overdue_session_expires_instead_of_being_paid(
    client, django_capture_on_commit_callbacks
):
    order = _order()
    url, session = _checkout(order)
    SimulatedCheckoutSession.objects.filter(pk=session.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"action": "pay", **SIM_SHIPPING})
    assert response["Location"] == CANCEL
    order.refresh_from_db()
    assert order.status == "EXPIRED"


def test_overdue_sessions_are_expired_by_the_periodic_job(django_capture_on_commit_callbacks):
    order = _order()
    _, session = _checkout(order)
    fresh = _order()
    _checkout(fresh)
    SimulatedCheckoutSession.objects.filter(pk=session.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert simulator_sessions_expire_due() == 1
    order.refresh_from_db()
    fresh.refresh_from_db()
    assert (order.status, fresh.status) == ("EXPIRED", "PENDING")


def test_a_bad_action_changes_nothing(client):
    order = _order()
    url, session = _checkout(order)
    response = client.post(url, {"action": "refund-everything"})
    assert response["Location"] == url
    session.refresh_from_db()
    assert session.status == "open"
    assert not StripeEvent.objects.exists()


def test_an_unknown_session_is_404(client):
    url = reverse("payments:simulator-checkout", kwargs={"session_id": "cs_sim_nope"})
    assert client.get(url).status_code == 404


def test_the_same_idempotency_key_returns_the_same_session():
    gateway = SimulatorGateway()
    kwargs = {
        "order_id": 7,
        "email": "b@example.com",
        "line_items": [LineItem(name="A", unit_amount_cents=300, quantity=2, currency="usd")],
        "success_url": SUCCESS,
        "cancel_url": CANCEL,
        "idempotency_key": "checkout-order-7",
    }
    first = gateway.create_checkout_session(**kwargs)
    second = gateway.create_checkout_session(**kwargs)
    assert first == second
    assert SimulatedCheckoutSession.objects.get().amount_total == 600


def test_simulated_transfers_are_idempotent_by_key():
    gateway = SimulatorGateway()
    SimulatedAccount.objects.create(
        id="acct_sim_1",
        idempotency_key="k",
        seller_id=1,
        email="s@example.com",
        payouts_enabled=True,
        charges_enabled=True,
        details_submitted=True,
    )
    kwargs = {
        "amount_cents": 450,
        "currency": "usd",
        "destination": "acct_sim_1",
        "source_transaction": "ch_sim_1",
        "transfer_group": "order-1",
        "metadata": {},
    }
    a = gateway.create_transfer(idempotency_key="transfer-order-1-seller-2", **kwargs)
    b = gateway.create_transfer(idempotency_key="transfer-order-1-seller-2", **kwargs)
    c = gateway.create_transfer(idempotency_key="transfer-order-1-seller-3", **kwargs)
    assert a == b != c
    assert a.id.startswith("tr_sim_")
    assert (a.amount_cents, a.currency, a.destination) == (450, "usd", "acct_sim_1")


# --- never with real keys ---------------------------------------------------------------
def test_the_simulator_is_unreachable_when_stripe_keys_are_set(client, settings):
    order = _order()
    url, _ = _checkout(order)
    account = SimulatedAccount.objects.create(
        idempotency_key="k", seller_id=order.items.get().seller_id, email="s@example.com"
    )
    client.force_login(order.items.get().seller)
    # when a real key is configured
    settings.STRIPE_SECRET_KEY = "sk_live_51RealKey"
    # then every simulator page is a 404, for every method
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "pay", **SIM_SHIPPING}).status_code == 404
    onboarding = reverse("payments:simulator-onboarding", kwargs={"account_id": account.id})
    dashboard = reverse("payments:simulator-dashboard", kwargs={"account_id": account.id})
    assert client.get(onboarding).status_code == 404
    assert client.post(onboarding, {"action": "complete"}).status_code == 404
    assert client.get(dashboard).status_code == 404
    assert Order.objects.get(pk=order.pk).status == "PENDING"
    assert not StripeEvent.objects.exists()


def test_the_simulator_gateway_refuses_to_exist_with_a_key(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_51Abc"
    with pytest.raises(ImproperlyConfigured):
        SimulatorGateway()


def test_the_simulator_gateway_refuses_when_the_simulator_is_switched_off(settings):
    settings.PAYMENT_SIMULATOR = False
    with pytest.raises(ImproperlyConfigured):
        SimulatorGateway()


# --- handler rules, driven by the simulator's state ----------------------------------------
def _deliver_session_event(deliver, session, event_type: str):
    session.refresh_from_db()
    return deliver(event_build(event_type, session_object(session)))


def _simulated_session(
    idempotency_key: str, *, order_id: int, **fields
) -> SimulatedCheckoutSession:
    """A session on the simulator's "Stripe" that we did not create through checkout."""
    return SimulatedCheckoutSession.objects.create(
        idempotency_key=idempotency_key,
        order_id=order_id,
        **{
            "email": "x@example.com",
            "amount_total": 500,
            "currency": "usd",
            "success_url": SUCCESS,
            "cancel_url": CANCEL,
            "status": "expired",
            "expires_at": timezone.now(),
            **fields,
        },
    )


def test_a_completed_but_unpaid_checkout_waits_for_the_async_payment(
    deliver, django_capture_on_commit_callbacks
):
    # given a bank debit: the session completes before the money arrives
    order = _order()
    _, session = _checkout(order)
    SimulatedCheckoutSession.objects.filter(pk=session.pk).update(
        status="complete", payment_status="unpaid", payment_intent="pi_sim_async"
    )
    with django_capture_on_commit_callbacks(execute=True):
        _deliver_session_event(deliver, session, "checkout.session.completed")
    order.refresh_from_db()
    assert order.status == "PENDING"
    assert StripeEvent.objects.get().status == "PROCESSED"
    # when the payment succeeds later
    SimulatedCheckoutSession.objects.filter(pk=session.pk).update(
        payment_status="paid", charge="ch_sim_async"
    )
    with django_capture_on_commit_callbacks(execute=True):
        _deliver_session_event(deliver, session, "checkout.session.async_payment_succeeded")
    order.refresh_from_db()
    assert (order.status, order.stripe_charge_id) == ("PAID", "ch_sim_async")


def test_an_async_payment_failure_fails_the_order_and_releases_stock(
    deliver, django_capture_on_commit_callbacks
):
    order = _order(physical=True, quantity=1, stock=1)
    _, session = _checkout(order)
    SimulatedCheckoutSession.objects.filter(pk=session.pk).update(
        status="complete", payment_status="unpaid"
    )
    with django_capture_on_commit_callbacks(execute=True):
        _deliver_session_event(deliver, session, "checkout.session.async_payment_failed")
    order.refresh_from_db()
    product = Product.objects.get(pk=order.items.get().product_id)
    assert (order.status, product.stock_quantity) == ("FAILED", 1)


def test_a_late_expired_event_for_a_paid_session_changes_nothing(
    client, deliver, django_capture_on_commit_callbacks
):
    # given an order that was paid
    order = _order()
    url, session = _checkout(order)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "pay", **SIM_SHIPPING})
    # when an "expired" event for its session arrives late (or forged by replay)
    stale = session_object(session)  # as it was when still open
    stale["status"] = "expired"
    with django_capture_on_commit_callbacks(execute=True):
        deliver(event_build("checkout.session.expired", stale))
    # then the re-fetched session (complete) wins: the event is ignored, the order stays paid
    row = StripeEvent.objects.get(type="checkout.session.expired")
    assert row.status == "IGNORED"
    order.refresh_from_db()
    assert order.status == "PAID"
    assert order.events.filter(kind="EXPIRED").count() == 0


def test_a_paid_session_that_is_not_the_orders_is_kept_failed_for_staff(
    deliver, django_capture_on_commit_callbacks
):
    # given a paid simulated session that claims an order which has another session
    order = _order()
    _checkout(order)
    rogue = _simulated_session(
        "rogue",
        order_id=order.pk,
        amount_total=1,
        status="complete",
        payment_status="paid",
        payment_intent="pi_sim_rogue",
        charge="ch_sim_rogue",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            _deliver_session_event(deliver, rogue, "checkout.session.completed").status_code == 200
        )
    row = StripeEvent.objects.get()
    assert row.status == "FAILED"
    assert row.last_error.startswith(
        f"ApplicationError: Session {rogue.id} does not belong to order {order.pk}."
    )
    order.refresh_from_db()
    assert order.status == "PENDING"


def test_an_expired_event_for_an_order_that_moved_to_another_session_is_ignored(
    deliver, django_capture_on_commit_callbacks
):
    order = _order()
    _checkout(order)
    old = _simulated_session("old", order_id=order.pk)
    with django_capture_on_commit_callbacks(execute=True):
        _deliver_session_event(deliver, old, "checkout.session.expired")
    assert StripeEvent.objects.get().status == "IGNORED"
    assert Order.objects.get(pk=order.pk).status == "PENDING"


def test_a_session_event_for_an_unknown_order_is_ignored(
    deliver, django_capture_on_commit_callbacks
):
    ghost = _simulated_session("ghost", order_id=999999)
    with django_capture_on_commit_callbacks(execute=True):
        _deliver_session_event(deliver, ghost, "checkout.session.expired")
    assert StripeEvent.objects.get().status == "IGNORED"
    assert not OrderEvent.objects.exists()


def test_the_seller_cannot_be_someone_else_on_the_simulated_dashboard(client):
    owner, stranger = UserFactory(), UserFactory()
    account = SimulatedAccount.objects.create(
        idempotency_key="k", seller_id=owner.pk, email=owner.email, details_submitted=True
    )
    url = reverse("payments:simulator-dashboard", kwargs={"account_id": account.id})
    client.force_login(stranger)
    assert client.get(url).status_code == 404
    client.force_login(owner)
    assert client.get(url).status_code == 200
