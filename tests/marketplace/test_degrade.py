"""Degrade, don't fail: with Redis refused or hung every public page renders, /healthz
says "down" without leaking hosts, and a lost database is a clean 503 page."""

import runpy
import socket
import threading
from pathlib import Path

import pytest
from django.core.cache import caches
from django.db import OperationalError
from django.test import override_settings
from django.urls import reverse

from catalog.models import Product
from marketplace.cache import cache_available, cache_breaker_reset
from orders.models import Order
from tests.catalog.factories import ProductFactory
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SETTINGS = Path(__file__).resolve().parents[2] / "config" / "settings.py"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def hung_redis():
    """A "Redis" that accepts connections and never answers a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join(1)
    for conn in held:
        conn.close()
    server.close()


def _resilient(location: str) -> dict:
    return {
        "default": {
            "BACKEND": "marketplace.cache.ResilientRedisCache",
            "LOCATION": location,
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }


@pytest.fixture
def public_pages():
    seller = UserFactory()
    product = ProductFactory(
        seller=seller, status="PUBLISHED", complete=True, seller_ready=True, price_cents=0
    )
    asset = product.assets.get()
    return product, [
        reverse("catalog:home"),
        reverse("catalog:browse"),
        reverse("catalog:search") + "?q=planter",
        reverse("catalog:category-detail", kwargs={"slug": product.category.slug}),
        product.get_absolute_url(),
        reverse("catalog:search-suggest") + "?q=pla",
        reverse("downloads:asset", kwargs={"product_pk": product.pk, "asset_pk": asset.pk}),
    ]


@pytest.mark.parametrize("shape", ["refused", "hung"])
def test_every_public_page_renders_with_redis_down(client, public_pages, shape, request):
    # given a cache that refuses connections (nothing listens) or accepts and never answers
    location = (
        f"redis://127.0.0.1:{_free_port()}/0"
        if shape == "refused"
        else request.getfixturevalue("hung_redis")
    )
    product, urls = public_pages
    user = UserFactory()
    with override_settings(CACHES=_resilient(location)):
        cache_breaker_reset()
        try:
            # when / then: every page answers, the free download redirects to its link
            for url in urls:
                response = client.get(url, HTTP_USER_AGENT="Mozilla/5.0")
                assert response.status_code in (200, 302), url
            assert product.title in client.get(product.get_absolute_url()).content.decode()
            # the login POST works (allauth's rate limits fail open without a cache)
            response = client.post(
                reverse("account_login"), {"login": user.email, "password": PASSWORD}
            )
            assert response.status_code == 302
            assert client.get(reverse("catalog:home")).context["user"] == user
            # and the breaker is open: the cache is skipped rather than asked each time
            assert cache_available() is False
        finally:
            cache_breaker_reset()


def test_the_cache_answers_misses_and_logs_the_outage_once(caplog):
    with override_settings(CACHES=_resilient(f"redis://127.0.0.1:{_free_port()}/0")):
        cache_breaker_reset()
        cache = caches["default"]
        try:
            with caplog.at_level("WARNING", logger="marketplace.cache"):
                for _ in range(5):
                    assert cache.get("k", "fallback") == "fallback"
                    assert cache.add("k", 1) is True  # as if first: locks and counters fail open
                    cache.set("k", 1)
                    with pytest.raises(ValueError):
                        cache.incr("k")
                    assert cache.get_many(["a", "b"]) == {}
            outage_lines = [r for r in caplog.records if "cache unavailable" in r.getMessage()]
            assert len(outage_lines) == 1
        finally:
            cache_breaker_reset()


def test_production_settings_give_every_dependency_short_timeouts(monkeypatch):
    # given the production shape's variables
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.internal:5432/hc")
    monkeypatch.setenv("REDIS_URL", "redis://cache.internal:6379/0")
    monkeypatch.setenv("S3_PRIVATE_BUCKET", "private")
    monkeypatch.setenv("S3_PUBLIC_BUCKET", "public")
    # when the settings module is evaluated afresh
    conf = runpy.run_path(str(SETTINGS))
    # then
    db = conf["DATABASES"]["default"]["OPTIONS"]
    assert 0 < db["connect_timeout"] <= 5
    assert "statement_timeout=" in db["options"]
    cache = conf["CACHES"]["default"]
    assert cache["BACKEND"] == "marketplace.cache.ResilientRedisCache"
    assert 0 < cache["OPTIONS"]["socket_connect_timeout"] <= 0.5
    assert 0 < cache["OPTIONS"]["socket_timeout"] <= 0.5
    transport = conf["CELERY_BROKER_TRANSPORT_OPTIONS"]
    assert 0 < transport["socket_connect_timeout"] <= 2
    assert 0 < transport["socket_timeout"] <= 2
    assert conf["CELERY_BROKER_CONNECTION_TIMEOUT"] <= 2
    assert conf["CELERY_TASK_PUBLISH_RETRY_POLICY"]["max_retries"] <= 1
    for alias in ("default", "private"):
        boto = conf["STORAGES"][alias]["OPTIONS"]["client_config"]
        assert 0 < boto.connect_timeout <= 5
        assert 0 < boto.read_timeout <= 30


# ------------------------------------------------------------------------------
# /healthz
# ------------------------------------------------------------------------------
def test_healthz_tells_anonymous_callers_only_up_or_down(client, django_assert_num_queries):
    # given a caller that carries a session cookie (a browser that once visited)
    client.get(reverse("catalog:home"))
    client.cookies["sessionid"] = "x" * 32
    with override_settings(CACHES=_resilient(f"redis://127.0.0.1:{_free_port()}/0")):
        cache_breaker_reset()
        try:
            # when: the session is never read (no query on the request's connection)
            with django_assert_num_queries(0):
                response = client.get("/healthz")
            # and asking for details as an anonymous caller changes nothing
            detailed = client.get("/healthz?detail=1")
        finally:
            cache_breaker_reset()
    # then
    for answer in (response, detailed):
        assert answer.status_code == 503
        assert answer.json() == {"status": "down"}
        assert b"127.0.0.1" not in answer.content


def test_healthz_names_the_failed_dependency_to_staff(client):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    with override_settings(CACHES=_resilient(f"redis://127.0.0.1:{_free_port()}/0")):
        cache_breaker_reset()
        try:
            response = client.get("/healthz?detail=1")
        finally:
            cache_breaker_reset()
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "down"
    assert body["checks"]["cache"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_healthz_answers_down_when_a_dependency_hangs(client, hung_redis, monkeypatch):
    # given a cache that accepts and never answers, with sockets slower than the deadline
    monkeypatch.setattr("marketplace.health.HEALTH_DEADLINE_SECONDS", 0.3)
    slow = _resilient(hung_redis)
    slow["default"]["OPTIONS"] = {"socket_connect_timeout": 5, "socket_timeout": 5}
    client.force_login(UserFactory(is_staff=True))
    with override_settings(CACHES=slow):
        response = client.get("/healthz?detail=1")
    # then the report does not wait for the hung probe
    assert response.status_code == 503
    assert "no answer within" in response.json()["checks"]["cache"]["error"]


# ------------------------------------------------------------------------------
# The database goes away
# ------------------------------------------------------------------------------
def test_a_page_answers_a_clean_503_when_the_database_is_unreachable(client, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr("catalog.views.HomeView.get", unreachable)
    response = client.get(reverse("catalog:home"))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "back in a moment" in response.content.decode()


def test_a_lost_database_in_middleware_is_a_503_not_a_500(client, monkeypatch):
    # given a visitor whose session cannot be read (the database is gone)
    client.raise_request_exception = False

    def unreachable(self, *args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("django.contrib.sessions.backends.db.SessionStore.load", unreachable)
    client.cookies["sessionid"] = "y" * 32
    response = client.get(reverse("catalog:home"))
    assert response.status_code == 503
    assert "back in a moment" in response.content.decode()


def test_a_checkout_cut_off_by_the_database_leaves_no_order(client, monkeypatch):
    # given a cart with a paid file
    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    client.post(reverse("orders:cart-add"), {"product_id": product.pk, "quantity": 1})

    def lose_the_database(**kwargs):
        # the order row is already written in this transaction when its lines fail
        assert Order.objects.count() == 1
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr("orders.models.OrderItem.objects.create", lose_the_database)
    # when
    response = client.post(
        reverse("payments:checkout"), {"email": "guest@example.com", "accept_terms": "on"}
    )
    # then: a 503 page and nothing half-written
    assert response.status_code == 503
    assert Order.objects.count() == 0
    assert Product.objects.get(pk=product.pk).status == "PUBLISHED"
