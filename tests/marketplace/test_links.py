"""Every internal link on the main pages goes somewhere: none answers 404 or 500, and no
page carries a `href="#"` placeholder."""

from html.parser import HTMLParser
from urllib.parse import urldefrag

import pytest
from django.conf import settings
from django.urls import reverse

from catalog.models import Tag
from tests.catalog.factories import ProductFactory, category
from tests.factories import SellerProfileFactory, UserFactory
from tests.orders.factories import paid_order

pytestmark = pytest.mark.django_db

# Links a crawler must not follow: they change state or are not pages.
SKIP_PREFIXES = ("/accounts/logout/", settings.MEDIA_URL, settings.STATIC_URL)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href is not None:
                self.hrefs.append(href)


def _hrefs(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


def _internal(href: str) -> str | None:
    url = urldefrag(href).url
    if not url.startswith("/") or url.startswith("//") or url.startswith(SKIP_PREFIXES):
        return None
    return url


@pytest.fixture
def shop():
    """A small demo-like marketplace: a ready seller with a file and a printed item (one
    tagged), a category, and a buyer with a paid order of both."""
    seller = SellerProfileFactory().user
    planter = ProductFactory(
        seller=seller,
        title="Self-watering Planter",
        status="PUBLISHED",
        complete=True,
        seller_ready=True,
        category=category(),
    )
    planter.tags.add(Tag.objects.create(name="planter", slug="planter"))
    printed = ProductFactory(
        seller=seller, physical=True, status="PUBLISHED", complete=True, seller_ready=True
    )
    buyer = UserFactory()
    order = paid_order(planter, printed, buyer=buyer, email=buyer.email)
    return {"seller": seller, "buyer": buyer, "product": planter, "order": order}


def _crawl(client, start_pages: list[str]) -> dict[str, int]:
    """GET each start page, then every internal link on it once; {url: status}."""
    seen: dict[str, int] = {}
    for page in start_pages:
        response = client.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        assert 'href="#"' not in html, f'a dead href="#" on {page}'
        seen[page] = response.status_code
        for href in _hrefs(html):
            url = _internal(href)
            if url is not None and url not in seen:
                seen[url] = client.get(url).status_code
    return seen


def _broken(seen: dict[str, int]) -> dict[str, int]:
    return {url: status for url, status in seen.items() if status in (404, 405) or status >= 500}


def test_every_internal_link_on_the_public_pages_answers(client, shop):
    # given the demo-like shop, as a visitor with an item in the cart
    product = shop["product"]
    client.post(reverse("orders:cart-add"), {"product_id": product.pk, "quantity": 1})
    pages = [
        reverse("catalog:home"),
        reverse("catalog:browse"),
        product.get_absolute_url(),
        shop["seller"].seller_profile.get_absolute_url(),
        category().get_absolute_url(),
        reverse("orders:cart"),
    ]
    assert product.title in client.get(reverse("orders:cart")).content.decode()
    # when every link on those pages is followed
    seen = _crawl(client, pages)
    # then none is missing or broken
    assert _broken(seen) == {}
    assert len(seen) > 30


def test_every_internal_link_on_the_buyer_pages_answers(client, shop):
    # given the buyer, signed in
    client.force_login(shop["buyer"])
    pages = [
        reverse("catalog:home"),
        shop["product"].get_absolute_url(),
        reverse("orders:order-detail", args=[shop["order"].pk]),
        reverse("orders:order-list"),
        reverse("orders:cart"),
    ]
    # when every link is followed
    seen = _crawl(client, pages)
    # then none is missing or broken
    assert _broken(seen) == {}


def test_every_internal_link_on_the_seller_pages_answers(client, shop):
    # given the seller, signed in
    client.force_login(shop["seller"])
    pages = [
        reverse("catalog:home"),
        reverse("catalog:seller-listing-list"),
        reverse("orders:seller-sales"),
        reverse("payments:connect"),
        reverse("payments:payouts-dashboard"),
        shop["product"].get_absolute_url(),
    ]
    # when every link is followed
    seen = _crawl(client, pages)
    # then none is missing or broken
    assert _broken(seen) == {}


def test_the_popular_chips_tags_and_footer_open_search_and_browse(client, shop):
    # given the home and product pages
    home = client.get(reverse("catalog:home")).content.decode()
    product = client.get(shop["product"].get_absolute_url()).content.decode()
    # then the chips search, the tag searches, and the footer's Browse browses
    assert 'href="/search/?q=planter">Planters</a>' in home
    assert '<a class="chip" href="/search/?q=planter">planter</a>' in product
    assert '<li><a href="/browse/">Browse</a></li>' in home
    assert [h for h in _hrefs(home) + _hrefs(product) if h.startswith("/?")] == []
    # and the search they open finds the tagged listing
    results = client.get("/search/?q=planter").content.decode()
    assert "Self-watering Planter" in results
