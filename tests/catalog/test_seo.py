"""Sitemap, robots.txt, canonical URLs, Open Graph and schema.org Product JSON-LD."""

import json
import re

import pytest
from django.urls import reverse

from catalog.models import Product
from tests.catalog.factories import ProductFactory, category
from tests.factories import SellerProfileFactory

pytestmark = pytest.mark.django_db


def _json_ld(html: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert match, "no JSON-LD"
    return json.loads(match.group(1))


def _og(html: str) -> dict[str, str]:
    return dict(re.findall(r'<meta property="(og:[a-z_]+)" content="([^"]*)">', html))


def _canonical(html: str) -> list[str]:
    return re.findall(r'<link rel="canonical" href="([^"]*)">', html)


def test_the_sitemap_lists_what_the_public_may_see_and_nothing_else(client):
    # given a public listing, a draft, a taken-down listing and a suspended seller's shop
    shop = SellerProfileFactory(slug="maple")
    live = ProductFactory(seller=shop.user, slug="live-planter", status="PUBLISHED")
    ProductFactory(seller=shop.user, slug="draft-planter", status="DRAFT")
    ProductFactory(seller=shop.user, slug="removed-planter", status="PUBLISHED", is_taken_down=True)
    suspended = SellerProfileFactory(slug="suspended-shop")
    ProductFactory(seller=suspended.user, slug="suspended-planter", status="PUBLISHED")
    suspended.user.is_active = False
    suspended.user.save()
    # when a crawler reads /sitemap.xml
    response = client.get("/sitemap.xml")
    xml = response.content.decode()
    # then it finds the public listing, the active shop and the categories only
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    assert f"<loc>http://testserver{live.get_absolute_url()}</loc>" in xml
    assert "<loc>http://testserver/shops/maple/</loc>" in xml
    assert f"<loc>http://testserver{category().get_absolute_url()}</loc>" in xml
    for hidden in ("draft-planter", "removed-planter", "suspended-planter", "suspended-shop"):
        assert hidden not in xml
    # and what it lists is what the browse page shows
    browse = {p.slug for p in client.get(reverse("catalog:browse")).context["products"]}
    assert browse == {"live-planter"}


def test_robots_allows_the_shop_and_keeps_crawlers_out_of_private_pages(client):
    # when a crawler reads /robots.txt
    response = client.get("/robots.txt")
    text = response.content.decode()
    # then it may crawl everything but accounts, checkout, seller, orders and staff pages
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = text.splitlines()
    assert lines[:2] == ["User-agent: *", "Allow: /"]
    for private in ("/accounts/", "/cart/", "/checkout/", "/seller/", "/orders/", "/admin/"):
        assert f"Disallow: {private}" in lines
    assert "Disallow: /p/" not in lines and "Disallow: /shops/" not in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines


def test_a_product_page_has_its_canonical_url_open_graph_and_product_json_ld(client):
    # given a $12.50 file listing with a picture, from a ready seller, with three reviews
    shop = SellerProfileFactory(display_name="Maple Prints")
    product = ProductFactory(
        seller=shop.user,
        title="Spiral Vase",
        slug="spiral-vase",
        description="A vase in **one** wall.",
        price_cents=1250,
        status="PUBLISHED",
        complete=True,
        seller_ready=True,
    )
    Product.objects.filter(pk=product.pk).update(rating_count=3, rating_sum=13)
    # when a visitor (or a crawler) opens it with a tracking query
    html = client.get(product.get_absolute_url() + "?utm_source=x").content.decode()
    # then the canonical URL drops the query, and Open Graph describes the product
    assert _canonical(html) == ["http://testserver/p/spiral-vase/"]
    og = _og(html)
    assert og["og:type"] == "product"
    assert og["og:title"] == "Spiral Vase"
    assert og["og:url"] == "http://testserver/p/spiral-vase/"
    assert og["og:image"].startswith("http://testserver/media/")
    # and the JSON-LD is a schema.org Product with its offer and rating
    data = _json_ld(html)
    assert (data["@type"], data["name"], data["url"]) == (
        "Product",
        "Spiral Vase",
        "http://testserver/p/spiral-vase/",
    )
    assert data["offers"] == {
        "@type": "Offer",
        "url": "http://testserver/p/spiral-vase/",
        "price": "12.50",
        "priceCurrency": "USD",
        "availability": "https://schema.org/InStock",
        "seller": {"@type": "Organization", "name": "Maple Prints"},
    }
    assert data["aggregateRating"] == {
        "@type": "AggregateRating",
        "ratingValue": "4.3",
        "reviewCount": 3,
        "bestRating": "5",
        "worstRating": "1",
    }


def test_a_product_without_reviews_or_stock_says_so_in_its_json_ld(client):
    # given a printed item sold out, never reviewed
    product = ProductFactory(
        physical=True, status="PUBLISHED", complete=True, seller_ready=True, stock_quantity=0
    )
    # when it is opened
    data = _json_ld(client.get(product.get_absolute_url()).content.decode())
    # then it is out of stock and carries no rating
    assert data["offers"]["availability"] == "https://schema.org/OutOfStock"
    assert data["offers"]["price"] == "25.00"
    assert "aggregateRating" not in data


def test_seller_text_cannot_close_the_json_ld_script(client):
    # given a title with a closing script tag
    product = ProductFactory(
        title="Vase </script><script>alert(1)</script>", status="PUBLISHED", complete=True
    )
    # when it is opened
    html = client.get(product.get_absolute_url()).content.decode()
    # then the JSON-LD holds the title as data, and no script tag leaks out of it
    assert _json_ld(html)["name"] == "Vase </script><script>alert(1)</script>"
    assert "<script>alert(1)" not in html


def test_shop_and_category_pages_have_a_canonical_url_and_open_graph(client):
    # given a shop with a bio and a category
    SellerProfileFactory(slug="maple", display_name="Maple Prints", bio="Planters.")
    planters = category()
    # when each is opened (the category with filters and a page)
    shop_html = client.get("/shops/maple/").content.decode()
    category_html = client.get(
        planters.get_absolute_url(), {"sort": "price_asc", "page": "2"}
    ).content.decode()
    # then each names its own URL as canonical, and Open Graph describes it
    assert _canonical(shop_html) == ["http://testserver/shops/maple/"]
    assert _og(shop_html)["og:title"] == "Maple Prints"
    assert _og(shop_html)["og:description"] == "Planters."
    assert _canonical(category_html) == [f"http://testserver{planters.get_absolute_url()}"]
    assert _og(category_html)["og:title"] == planters.name
    assert _og(category_html)["og:url"] == f"http://testserver{planters.get_absolute_url()}"
    # and neither is a product
    assert "application/ld+json" not in shop_html + category_html
