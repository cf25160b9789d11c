"""Every page carries the Content-Security-Policy and the usual security headers, and no
rendered page has an inline script (other than typed JSON data or the nonce'd import
map) or a style="" attribute — so the CSP needs no 'unsafe-inline'."""

from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from tests.catalog.factories import ProductFactory, ProductImageFactory
from tests.factories import SellerProfileFactory, UserFactory
from tests.orders.factories import paid_order

pytestmark = pytest.mark.django_db

DATA_TYPES = {"application/ld+json", "application/json"}
# Links that change state on GET, leave the site, or are endless.
SKIP = ("/accounts/logout", "/downloads/file/", "/static/", "/media/", "/sitemap", "/admin/logout")


class _Page(HTMLParser):
    def __init__(self, nonce: str):
        super().__init__()
        self.nonce = nonce
        self.problems: list[str] = []
        self.links: list[str] = []
        self._open_script: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "style" in attrs:
            self.problems.append(f"<{tag} style=…>")
        for name in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
        if tag == "style":
            self.problems.append("<style> block")
        if tag == "script" and "src" not in attrs:
            kind = (attrs.get("type") or "").lower()
            nonced_map = kind == "importmap" and self.nonce and attrs.get("nonce") == self.nonce
            if kind not in DATA_TYPES and not nonced_map:
                self.problems.append(f"inline <script type={kind!r}>")
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def _nonce(policy: str) -> str:
    for part in policy.split(";"):
        for token in part.split():
            if token.startswith("'nonce-"):
                return token[len("'nonce-") : -1]
    return ""


CHECKED: list[str] = []


def _crawl(client: Client, start: list[str], limit: int = 60) -> dict[str, list[str]]:
    """GET pages breadth-first from `start`, following same-site links; returns the
    problems found per page (asserting headers on each)."""
    seen, queue, found = set(), deque(start), {}
    while queue and len(seen) < limit:
        url = urldefrag(queue.popleft())[0]
        parts = urlsplit(url)
        if parts.netloc or url in seen or url.startswith(SKIP) or not url.startswith("/"):
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code >= 300 or "text/html" not in response.get("Content-Type", ""):
            continue
        policy = response["Content-Security-Policy"]
        assert "'unsafe-inline'" not in policy and "script-src 'self'" in policy, url
        assert "frame-ancestors 'none'" in policy, url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["Referrer-Policy"] == "strict-origin-when-cross-origin", url
        assert response["X-Frame-Options"] == "DENY", url
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", url
        assert "camera=()" in response["Permissions-Policy"], url
        CHECKED.append(url)
        page = _Page(_nonce(policy))
        page.feed(response.content.decode())
        if page.problems:
            found[url] = page.problems
        queue.extend(page.links)
    return found


@pytest.fixture
def marketplace_world():
    seller = SellerProfileFactory().user
    product = ProductFactory(seller=seller, status="PUBLISHED", complete=True, seller_ready=True)
    ProductImageFactory(product=product)
    printed = ProductFactory(
        seller=seller,
        status="PUBLISHED",
        complete=True,
        seller_ready=True,
        physical=True,
        stock_quantity=5,
    )
    buyer = UserFactory()
    order = paid_order(product, printed, buyer=buyer)
    staff = UserFactory(is_staff=True, is_superuser=True)
    return {"seller": seller, "buyer": buyer, "staff": staff, "product": product, "order": order}


def test_no_page_has_inline_script_or_style_and_all_carry_the_headers(marketplace_world):
    world = marketplace_world
    CHECKED.clear()
    product, order = world["product"], world["order"]
    public = [
        reverse("catalog:home"),
        reverse("catalog:browse"),
        reverse("catalog:search") + "?q=planter",
        product.get_absolute_url(),
        reverse("account_login"),
        reverse("account_signup"),
        reverse("account_reset_password"),
        "/no-such-page/",
    ]
    problems = _crawl(Client(), public)
    buyer = Client()
    buyer.force_login(world["buyer"])
    problems |= _crawl(
        buyer,
        [
            reverse("orders:order-detail", kwargs={"pk": order.pk}),
            reverse("orders:order-list"),
            reverse("orders:cart"),
            reverse("downloads:library"),
            *public[:4],
        ],
    )
    seller = Client()
    seller.force_login(world["seller"])
    problems |= _crawl(
        seller,
        [
            reverse("catalog:seller-listing-list"),
            reverse("orders:seller-sales"),
            reverse("orders:seller-sale-detail", kwargs={"order_pk": order.pk}),
            reverse("orders:seller-packing-slip", kwargs={"order_pk": order.pk}),
        ],
    )
    staff = Client()
    staff.force_login(world["staff"])
    problems |= _crawl(staff, [reverse("admin:index")], limit=15)
    assert problems == {}
    # the crawl really read the pages that matter (each role's own and the public ones)
    assert len(CHECKED) > 40
    assert product.get_absolute_url() in CHECKED
    assert reverse("orders:seller-packing-slip", kwargs={"order_pk": order.pk}) in CHECKED


def test_the_404_and_429_pages_carry_the_policy_too(client, settings):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Content-Security-Policy" in response
    settings.AUTOCOMPLETE_RATE = "1/m"
    client.get(reverse("catalog:search-suggest") + "?q=a")
    limited = client.get(reverse("catalog:search-suggest") + "?q=a")
    assert limited.status_code == 429
    assert "Content-Security-Policy" in limited
    assert limited["Retry-After"]


def test_hsts_is_sent_when_not_debugging(client, settings):
    # the production settings module's values with DEBUG off (checked in test_degrade
    # for timeouts); here the middleware honours them
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_SSL_REDIRECT = False
    response = client.get(reverse("catalog:home"), secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
