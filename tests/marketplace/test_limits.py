"""Limits on abusable endpoints, one client IP behind the trusted proxies, engagement that
cannot be bought by a script, and sessions that are neither made needlessly nor kept."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from analytics.models import ProductEngagementEvent
from analytics.trending import trending_recompute
from catalog.models import Product
from marketplace.http import client_ip
from orders.models import Order
from payments.simulator import SimulatedCheckoutSession
from tests.catalog.factories import ProductFactory
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"


# ------------------------------------------------------------------------------
# One client IP
# ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "6.6.6.6", "10.0.0.9"),  # no proxy: the header is the client's own words
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # the entry our balancer appended
        (1, "203.0.113.7", "203.0.113.7"),
        (2, "6.6.6.6, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (2, "203.0.113.7", "10.0.0.9"),  # shorter than the proxy chain: not trusted
        (1, "not-an-ip", "10.0.0.9"),
    ],
)
def test_client_ip_reads_the_trusted_proxy_setting(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def _login(client, email, password, forwarded):
    return client.post(
        reverse("account_login"),
        {"login": email, "password": password},
        REMOTE_ADDR="10.0.0.1",  # the load balancer
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def test_behind_the_load_balancer_failed_logins_limit_one_client_not_everyone(settings):
    # given the documented deployment: one load balancer in front
    settings.TRUSTED_PROXY_COUNT = 1
    victim, other = UserFactory(), UserFactory()
    attacker = Client()
    # when one client fails to log in over and over (different accounts)
    statuses = [
        _login(attacker, f"nobody{i}@example.com", "wrong-password", "198.51.100.1").status_code
        for i in range(12)
    ]
    # then that client is stopped (allauth's 10 failures a minute per IP): even the
    # right password is refused with the reason...
    assert statuses == [200] * 12
    blocked = _login(attacker, victim.email, PASSWORD, "198.51.100.1")
    assert blocked.status_code == 200
    assert "Too many failed login attempts" in blocked.content.decode()
    assert "_auth_user_id" not in attacker.session
    # ...while another client behind the same balancer signs in normally
    assert _login(Client(), other.email, PASSWORD, "203.0.113.50").status_code == 302


# ------------------------------------------------------------------------------
# Admin login
# ------------------------------------------------------------------------------
def _admin_login(client, username, password, ip="198.51.100.9"):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


def _site_login(client, email, password, ip="198.51.100.9"):
    return client.post(
        reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=ip
    )


def test_the_admin_login_stops_guessing_a_superusers_password(client):
    # given a superuser
    boss = UserFactory(is_staff=True, is_superuser=True)
    # the admin's own password form never signs anyone in: it sends staff to the site's
    # login, which asks for the second factor
    response = _admin_login(client, boss.email, PASSWORD)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert "_auth_user_id" not in client.session
    # when someone guesses wrong five times at the site's login
    for _ in range(5):
        assert _site_login(client, boss.email, "guess").status_code == 200
    # then even the right password is refused for now, from any address, with allauth's
    # plain-language form error (the account is what is limited)
    other = Client()
    response = _site_login(other, boss.email, PASSWORD, ip="203.0.113.3")
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in other.session


def test_the_admin_login_limits_one_address_trying_many_usernames(client, settings):
    settings.ADMIN_LOGIN_RATE_IP = "3/h"
    for i in range(3):
        _admin_login(client, f"guess{i}@example.com", "x")
    assert _admin_login(client, "guess9@example.com", "x").status_code == 429


def test_a_good_login_is_not_counted(client):
    staff = UserFactory(is_staff=True)
    # six right passwords in a row are never limited (each goes on to the second factor)
    for _ in range(6):
        assert _site_login(Client(), staff.email, PASSWORD).status_code == 302


# ------------------------------------------------------------------------------
# Cart, checkout and their reservations
# ------------------------------------------------------------------------------
def test_cart_adds_are_limited_with_retry_after(client, settings):
    settings.CART_ADD_RATE = "3/m"
    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    url = reverse("orders:cart-add")
    for _ in range(3):
        assert client.post(url, {"product_id": product.pk}).status_code == 302
    response = client.post(url, {"product_id": product.pk})
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60


def _checkout(product, ip="198.51.100.20"):
    guest = Client(REMOTE_ADDR=ip)
    guest.post(reverse("orders:cart-add"), {"product_id": product.pk, "quantity": 1})
    guest.post(reverse("orders:cart-ship-to"), {"country": "US"})
    return guest.post(
        reverse("payments:checkout"), {"email": "g@example.com", "accept_terms": "on"}
    )


def test_one_address_cannot_reserve_a_shops_whole_stock(settings):
    # given a printed item with 10 in stock and guests from one address in fresh sessions
    settings.CHECKOUT_RATE = settings.CHECKOUT_RATE_IP = "100/h"
    product = ProductFactory(
        status="PUBLISHED", complete=True, seller_ready=True, physical=True, stock_quantity=10
    )
    # when they start checkouts without paying
    answers = [_checkout(product).status_code for _ in range(6)]
    # then three are open (each holding one) and the rest are refused with a reason
    assert answers == [302, 302, 302, 400, 400, 400]
    assert Order.objects.filter(status="PENDING").count() == 3
    assert Product.objects.get(pk=product.pk).stock_quantity == 7
    refused = _checkout(product)
    assert "checkouts waiting for payment" in refused.content.decode()
    # and another buyer still can
    assert _checkout(product, ip="203.0.113.77").status_code == 302


def test_an_unpaid_checkout_holds_stock_for_thirty_minutes(settings):
    product = ProductFactory(
        status="PUBLISHED", complete=True, seller_ready=True, physical=True, stock_quantity=2
    )
    _checkout(product)
    order = Order.objects.get()
    session = SimulatedCheckoutSession.objects.get(id=order.stripe_checkout_session_id)
    held = session.expires_at - order.created_at
    assert timedelta(minutes=30) <= held <= timedelta(minutes=32)
    # when the session lapses unpaid, the sweep gives the stock back
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=50))
    SimulatedCheckoutSession.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    call_command("expire_abandoned_orders", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Order.objects.get().status == "EXPIRED"
    assert Product.objects.get(pk=product.pk).stock_quantity == 2


# ------------------------------------------------------------------------------
# Trending cannot be bought by a script
# ------------------------------------------------------------------------------
def test_sixty_add_to_carts_from_fresh_sessions_of_one_address_cannot_buy_trending(settings):
    # given five listings with real interest (three different buyers each)
    settings.CART_ADD_RATE = settings.CART_ADD_RATE_IP = "1000/m"
    popular = [
        ProductFactory(status="PUBLISHED", complete=True, seller_ready=True) for _ in range(5)
    ]
    for product in popular:
        for buyer in UserFactory.create_batch(3):
            shopper = Client(HTTP_USER_AGENT=BROWSER)
            shopper.force_login(buyer)
            shopper.post(reverse("orders:cart-add"), {"product_id": product.pk})
    target = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    # when a script adds the target to 60 fresh carts from one address
    for _ in range(60):
        Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="198.51.100.66").post(
            reverse("orders:cart-add"), {"product_id": target.pk}
        )
    # and a crawler adds it too
    Client(HTTP_USER_AGENT="python-requests/2.32", REMOTE_ADDR="198.51.100.67").post(
        reverse("orders:cart-add"), {"product_id": target.pk}
    )
    trending_recompute()
    # then it counts once, and it is not lifted above the listings people want
    assert ProductEngagementEvent.objects.filter(product=target).count() == 1
    ranked = list(
        Product.objects.order_by("-trending_score", "pk").values_list("pk", flat=True)[:6]
    )
    assert ranked[-1] == target.pk
    assert all(
        Product.objects.get(pk=p.pk).trending_score
        > Product.objects.get(pk=target.pk).trending_score
        for p in popular
    )


def test_a_guest_views_count_once_per_address_and_day(django_capture_on_commit_callbacks):
    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    for _ in range(5):
        visitor = Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="198.51.100.70")
        with django_capture_on_commit_callbacks(execute=True):
            visitor.get(product.get_absolute_url())
    assert ProductEngagementEvent.objects.filter(product=product, kind="VIEW").count() == 1


# ------------------------------------------------------------------------------
# Sessions
# ------------------------------------------------------------------------------
def test_cookie_less_page_views_write_no_session():
    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    pages = [
        reverse("catalog:home"),
        reverse("catalog:browse"),
        reverse("catalog:search") + "?q=planter",
        product.get_absolute_url(),
        reverse("orders:cart"),
    ]
    for url in pages:
        response = Client(HTTP_USER_AGENT=BROWSER).get(url)
        assert response.status_code == 200, url
        assert "sessionid" not in response.cookies, url
    assert Session.objects.count() == 0


def test_expired_sessions_are_cleared_on_a_schedule():
    from config.celery import app
    from marketplace.tasks import sessions_clear_expired_task

    # given an expired session and a live one
    Session.objects.create(
        session_key="a" * 32, session_data="", expire_date=timezone.now() - timedelta(days=1)
    )
    Session.objects.create(
        session_key="b" * 32, session_data="", expire_date=timezone.now() + timedelta(days=1)
    )
    # the beat schedule runs the task
    app.loader.import_default_modules()
    app.finalize()
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "marketplace.tasks.sessions_clear_expired_task" in scheduled
    # when it runs
    sessions_clear_expired_task()
    # then
    assert list(Session.objects.values_list("session_key", flat=True)) == ["b" * 32]
