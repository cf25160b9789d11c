"""Printed items: the address is asked for at payment (Stripe or the simulator), copied
onto the order when the payment is confirmed, and an order is never PAID without it."""

from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse

from orders.models import Order
from orders.services import order_create_from_cart
from payments.checkout import checkout_start, order_payment_confirm
from payments.gateway import SessionState, StripeGateway, shipping_address_from
from payments.models import PaymentRefund, SellerBalanceEntry
from payments.reconcile import reconcile_ledger
from payments.simulator import SimulatedCheckoutSession, SimulatorGateway, session_object
from tests.catalog.factories import ProductFactory
from tests.orders.factories import SIM_SHIPPING
from tests.payments.stripe_http import RecordingHTTPClient, fixture

pytestmark = pytest.mark.django_db

SUCCESS = "http://testserver/orders/1/"
CANCEL = "http://testserver/checkout/cancel/1/"
CA_ADDRESS = {
    "name": "Jeanne Tremblay",
    "line1": "1234 Rue Sainte-Catherine O",
    "line2": "Apt 5",
    "city": "Montréal",
    "region": "QC",
    "postal_code": "H3G 1P1",
    "country": "CA",
    "phone": "+1 514 555 0142",
}


def _printed(**kwargs):
    return ProductFactory(
        physical=True, status="PUBLISHED", complete=True, seller_ready=True, **kwargs
    )


def _file():
    return ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)


def _order(*products, ship_to="CA") -> Order:
    return order_create_from_cart(
        cart={str(p.pk): 1 for p in products},
        buyer=None,
        email="jeanne@example.com",
        ship_to_country=ship_to,
    )


def _stripe(*responses) -> tuple[StripeGateway, RecordingHTTPClient]:
    http = RecordingHTTPClient(*responses)
    return StripeGateway(api_key="sk_test_51Abc", http_client=http), http


# --- the Checkout Session request -------------------------------------------------------
def test_the_session_asks_for_an_address_in_the_chosen_country_only_for_printed_orders():
    # given a printed order to Canada and a files-only order
    printed, files = _order(_printed(), _file()), _order(_file())
    second = {**fixture("checkout_session_created"), "id": "cs_test_files2"}
    gateway, http = _stripe((200, "checkout_session_created"), (200, second))
    # when both go to Stripe Checkout
    with mock.patch("payments.checkout.get_gateway", return_value=gateway):
        checkout_start(order=printed, success_url=SUCCESS, cancel_url=CANCEL)
        checkout_start(order=files, success_url=SUCCESS, cancel_url=CANCEL)
    # then only the printed order's request collects an address, in Canada only
    printed_form, files_form = http.requests[0].form, http.requests[1].form
    assert printed_form["shipping_address_collection[allowed_countries][0]"] == "CA"
    assert "shipping_address_collection[allowed_countries][1]" not in printed_form
    assert not any(k.startswith("shipping_address_collection") for k in files_form)


# --- the address copied from Stripe's session -------------------------------------------
def _paid_session_for(order: Order) -> dict:
    session = fixture("checkout_session_paid_shipping")
    session["metadata"] = {"order_id": str(order.pk)}
    session["client_reference_id"] = str(order.pk)
    session["amount_total"] = session["amount_subtotal"] = order.total_cents
    return session


def test_the_address_stripe_collected_is_copied_onto_the_order(
    django_capture_on_commit_callbacks,
):
    # given a printed order to Canada sent to Stripe Checkout
    product = _printed(shipping_cents=1295)
    order = _order(product)
    Order.objects.filter(pk=order.pk).update(stripe_checkout_session_id="cs_test_ship9Zq")
    gateway, http = _stripe((200, _paid_session_for(order)))
    # when the paid session (collected_information.shipping_details) is confirmed
    with django_capture_on_commit_callbacks(execute=True):
        state = gateway.retrieve_checkout_session("cs_test_ship9Zq")
        order_payment_confirm(state=state)
    # then the order is PAID with the address Stripe collected, field by field
    order.refresh_from_db()
    assert order.status == "PAID"
    assert (
        order.ship_name,
        order.ship_line1,
        order.ship_line2,
        order.ship_city,
        order.ship_region,
        order.ship_postal_code,
        order.ship_country,
        order.ship_phone,
    ) == (
        "Jeanne Tremblay",
        "1234 Rue Sainte-Catherine O",
        "Apt 5",
        "Montréal",
        "QC",
        "H3G 1P1",
        "CA",
        "+1 514 555 0142",
    )
    assert http.requests[0].path == "/v1/checkout/sessions/cs_test_ship9Zq"
    # and the seller's sale email carries it
    sale = next(m for m in mail.outbox if m.to == [product.seller.email])
    assert "1234 Rue Sainte-Catherine O" in sale.body and "Canada" in sale.body


def test_an_older_api_versions_top_level_shipping_details_is_read_too():
    session = fixture("checkout_session_paid_shipping")
    details = session.pop("collected_information")["shipping_details"]
    session["shipping_details"] = details
    assert shipping_address_from(session) == CA_ADDRESS


def test_the_address_never_changes_after_payment(django_capture_on_commit_callbacks):
    order = _order(_printed())
    Order.objects.filter(pk=order.pk).update(stripe_checkout_session_id="cs_x")
    state = SessionState(
        id="cs_x",
        status="complete",
        payment_status="paid",
        payment_intent_id="pi_x",
        charge_id="ch_x",
        order_id=order.pk,
        amount_total=order.total_cents,
        currency="usd",
        shipping_address=CA_ADDRESS,
    )
    with django_capture_on_commit_callbacks(execute=True):
        order_payment_confirm(state=state)
        # a replay carrying another address changes nothing
        order_payment_confirm(
            state=SessionState(
                **{**state.__dict__, "shipping_address": {**CA_ADDRESS, "line1": "Elsewhere 1"}}
            )
        )
    order.refresh_from_db()
    assert (order.status, order.ship_line1) == ("PAID", "1234 Rue Sainte-Catherine O")


# --- never PAID without an address --------------------------------------------------------
def _stripe_shape(address: dict | None) -> dict | None:
    if address is None:
        return None
    return {
        "name": address["name"],
        "phone": address["phone"],
        "address": {
            "line1": address["line1"],
            "line2": address["line2"],
            "city": address["city"],
            "state": address["region"],
            "postal_code": address["postal_code"],
            "country": address["country"],
        },
    }


@pytest.mark.parametrize(
    "address",
    [None, {**CA_ADDRESS, "country": "US"}, {**CA_ADDRESS, "line1": ""}],
    ids=["no-address", "other-country", "no-street"],
)
def test_a_printed_order_paid_without_a_usable_address_is_refunded_not_paid(
    address, django_capture_on_commit_callbacks
):
    # given a printed order to Canada (2 in stock, 1 reserved) at the payment page
    product = _printed(stock_quantity=2)
    order = _order(product)
    session = _simulated(order)
    # when "Stripe" reports it paid without a usable address in Canada
    SimulatedCheckoutSession.objects.filter(pk=session.pk).update(
        status="complete",
        payment_status="paid",
        payment_intent="pi_sim_noaddr",
        charge="ch_sim_noaddr",
        shipping_details=_stripe_shape(address),
    )
    with django_capture_on_commit_callbacks(execute=True):
        order_payment_confirm(state=SimulatorGateway().retrieve_checkout_session(session.pk))
    # then it is not PAID: it is cancelled, its stock is back, the whole charge refunded
    order.refresh_from_db()
    product.refresh_from_db()
    assert (order.status, order.ship_country, product.stock_quantity) == ("CANCELLED", "", 2)
    refund = PaymentRefund.objects.get(order=order)
    assert (refund.reason, refund.amount_cents, refund.status) == (
        "NO_ADDRESS",
        order.total_cents,
        "SUCCEEDED",
    )
    # and nothing was posted for the seller, who was not told of a sale; zero drift
    assert SellerBalanceEntry.objects.count() == 0
    assert not any(m.to == [product.seller.email] for m in mail.outbox)
    assert reconcile_ledger()[1] == []


# --- the simulator asks for the same fields ---------------------------------------------
def _simulated(order: Order) -> SimulatedCheckoutSession:
    checkout_start(order=order, success_url=SUCCESS, cancel_url=CANCEL)
    order.refresh_from_db()
    return SimulatedCheckoutSession.objects.get(pk=order.stripe_checkout_session_id)


def test_the_simulator_collects_the_address_and_emits_it_like_stripe(
    client, django_capture_on_commit_callbacks
):
    order = _order(_printed())
    session = _simulated(order)
    assert session.shipping_countries == ["CA"]
    page = client.get(reverse("payments:simulator-checkout", args=[session.id])).content.decode()
    assert "Shipping address" in page and "ships to Canada only" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("payments:simulator-checkout", args=[session.id]),
            {"action": "pay", **SIM_SHIPPING, "country": "US", "phone": "+1 514 555 0100"},
        )
    session.refresh_from_db()
    order.refresh_from_db()
    # the country is the session's (Canada), whatever the form said
    assert session_object(session)["collected_information"]["shipping_details"] == {
        "name": "Ada Lovelace",
        "address": {
            "line1": "12 Analytical Row",
            "line2": None,
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62701",
            "country": "CA",
        },
    }
    assert session_object(session)["customer_details"]["phone"] == "+1 514 555 0100"
    assert (order.status, order.ship_name, order.ship_country, order.ship_phone) == (
        "PAID",
        "Ada Lovelace",
        "CA",
        "+1 514 555 0100",
    )


def test_the_simulator_refuses_to_pay_without_the_address_and_nothing_happens(client):
    order = _order(_printed())
    session = _simulated(order)
    response = client.post(
        reverse("payments:simulator-checkout", args=[session.id]),
        {"action": "pay", **SIM_SHIPPING, "line1": ""},
    )
    assert response.status_code == 400
    assert "Fill in the shipping address: line1." in response.content.decode()
    session.refresh_from_db()
    order.refresh_from_db()
    assert (session.status, session.shipping_details, order.status) == ("open", None, "PENDING")


def test_a_files_only_simulated_checkout_asks_for_no_address(client):
    order = _order(_file())
    session = _simulated(order)
    page = client.get(reverse("payments:simulator-checkout", args=[session.id])).content.decode()
    assert session.shipping_countries == [] and "Shipping address" not in page
    assert session_object(session)["collected_information"] is None
