"""Cancelling on the payment page brings the buyer back to a full cart, and the stock
reserved for the order comes back at once."""

import pytest
from django.urls import reverse

from catalog.models import Product
from orders.models import Order
from payments.simulator import SimulatedCheckoutSession
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _live(**kwargs):
    return ProductFactory(status="PUBLISHED", complete=True, seller_ready=True, **kwargs)


def _checkout(client, printed, file):
    client.post(reverse("orders:cart-add"), {"product_id": printed.pk, "quantity": 2})
    client.post(reverse("orders:cart-add"), {"product_id": file.pk})
    client.post(reverse("orders:cart-ship-to"), {"country": "CA"})
    response = client.post(
        reverse("payments:checkout"), {"email": "g@example.com", "accept_terms": "on"}
    )
    order = Order.objects.get()
    return order, response.url


def test_cancel_on_the_payment_page_restores_the_cart_and_the_stock(
    client, django_capture_on_commit_callbacks
):
    # given a guest at the simulated payment page for 2 printed items (5 in stock) + a file
    printed, file = _live(physical=True, stock_quantity=5), _live()
    order, pay_url = _checkout(client, printed, file)
    assert Product.objects.get(pk=printed.pk).stock_quantity == 3
    assert client.session["cart"] == {}
    # when they press Cancel
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(pay_url, {"action": "cancel"}, follow=True)
    # then they are on the cart, with everything still in it and Canada still chosen
    assert response.redirect_chain[-1][0] == reverse("orders:cart")
    assert "Payment cancelled: nothing was charged." in response.content.decode()
    assert client.session["cart"] == {str(printed.pk): 2, str(file.pk): 1}
    assert client.session["ship_to"] == "CA"
    # and the session expired on "Stripe", the order with it, and the stock is back
    order.refresh_from_db()
    assert order.status == "EXPIRED"
    assert SimulatedCheckoutSession.objects.get().status == "expired"
    assert Product.objects.get(pk=printed.pk).stock_quantity == 5


def test_letting_it_expire_also_comes_back_to_the_cart(client, django_capture_on_commit_callbacks):
    printed, file = _live(physical=True, stock_quantity=5), _live()
    _order, pay_url = _checkout(client, printed, file)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(pay_url, {"action": "expire"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("orders:cart")
    assert client.session["cart"] == {str(printed.pk): 2, str(file.pk): 1}
    assert Product.objects.get(pk=printed.pk).stock_quantity == 5


def test_someone_else_cannot_cancel_the_order_and_nothing_changes(client, settings):
    from django.test import Client

    printed, file = _live(physical=True, stock_quantity=5), _live()
    order, _ = _checkout(client, printed, file)
    cancel = reverse("payments:checkout-cancel", args=[order.pk])
    stranger = Client()
    assert stranger.get(cancel).status_code == 404
    assert stranger.get(cancel + "?t=" + "x" * 43).status_code == 404
    order.refresh_from_db()
    assert order.status == "PENDING"
    assert SimulatedCheckoutSession.objects.get().status == "open"
    assert Product.objects.get(pk=printed.pk).stock_quantity == 3
    # but the guest's token link (as in Stripe's cancel_url) works from another browser
    response = stranger.get(cancel + "?t=" + order.access_token)
    assert response.status_code == 302 and response.url == reverse("orders:cart")
    assert stranger.session["cart"] == {str(printed.pk): 2, str(file.pk): 1}


def test_a_cancel_that_finds_the_session_paid_confirms_the_payment_instead(
    client, django_capture_on_commit_callbacks
):
    from payments.simulator import shipping_details_build

    printed, file = _live(physical=True, stock_quantity=5), _live()
    order, _ = _checkout(client, printed, file)
    # the payment went through but its webhook has not arrived yet
    SimulatedCheckoutSession.objects.update(
        status="complete",
        payment_status="paid",
        payment_intent="pi_sim_p",
        charge="ch_sim_p",
        shipping_details=shipping_details_build(
            {
                "name": "A",
                "line1": "1 Rd",
                "city": "Ottawa",
                "postal_code": "K1A 0B1",
                "country": "CA",
            },
            allowed_countries=["CA"],
        ),
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("payments:checkout-cancel", args=[order.pk]))
    order.refresh_from_db()
    assert order.status == "PAID" and order.ship_city == "Ottawa"
    assert response.url.startswith(reverse("orders:order-detail", args=[order.pk]))
    assert client.session["cart"] == {}


def test_an_expired_order_can_put_its_items_back_in_the_cart(
    client, django_capture_on_commit_callbacks
):
    from payments.simulator import simulator_session_expire

    printed, file = _live(physical=True, stock_quantity=5), _live()
    order, _ = _checkout(client, printed, file)
    with django_capture_on_commit_callbacks(execute=True):
        simulator_session_expire(
            session_id=order.stripe_checkout_session_id
            or Order.objects.get().stripe_checkout_session_id
        )
    order.refresh_from_db()
    assert order.status == "EXPIRED"
    page = client.get(reverse("orders:order-detail", args=[order.pk]) + "?t=" + order.access_token)
    assert "Put these items back in my cart" in page.content.decode()
    client.post(reverse("orders:order-restore-cart", args=[order.pk]), {"t": order.access_token})
    assert client.session["cart"] == {str(printed.pk): 2, str(file.pk): 1}
