"""What the product page costs does not grow with the catalog or with anonymous traffic:
"more like this" scores a bounded candidate set, a cookie-less visit writes no session
row, and cache keys are the same in every web process."""

import hashlib

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache

from analytics.models import ProductEngagementEvent
from catalog import search
from catalog.models import Product
from catalog.search import products_like
from tests.catalog.factories import ProductFactory, category

pytestmark = pytest.mark.django_db

FIREFOX = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"}


def _live(**kwargs) -> Product:
    return ProductFactory(status="PUBLISHED", complete=True, seller_ready=True, **kwargs)


def test_more_like_this_scores_only_the_most_trending_candidates(
    monkeypatch, django_assert_num_queries
):
    # given a category of five listings, two of them trending, and a cap of two candidates
    tools = category("tools")
    base = _live(title="Base", category=tools)
    for n, score in enumerate([0, 9, 0, 7]):
        _live(title=f"Tool {n}", category=tools, trending_score=score)
    monkeypatch.setattr(search, "LIKE_CANDIDATES", 2)
    # when "more like this" is read: tags, then one bounded statement
    with django_assert_num_queries(2):
        titles = [p.title for p in products_like(base)]
    # then only the two most trending listings of the category were candidates
    assert sorted(titles) == ["Tool 1", "Tool 3"]


def test_a_cookie_less_product_view_writes_no_session_sets_no_cookie_and_counts_once(
    client, django_capture_on_commit_callbacks
):
    # given a published listing and a visitor without any cookie
    product = _live()
    # when they open it twice from the same address and browser
    with django_capture_on_commit_callbacks(execute=True):
        first = client.get(product.get_absolute_url(), headers=FIREFOX)
        second = client.get(product.get_absolute_url(), headers=FIREFOX)
    # then no session row exists, no session (or tracking) cookie is set — only the CSRF
    # token its forms need — and the view counted once
    assert (first.status_code, second.status_code) == (200, 200)
    assert Session.objects.count() == 0
    assert set(first.cookies) <= {"csrftoken"} and set(second.cookies) <= {"csrftoken"}
    assert ProductEngagementEvent.objects.filter(kind="VIEW", product=product).count() == 1


def test_the_top_rated_cache_key_is_a_stable_digest():
    # given a qualification query
    _live()
    qualified = Product.objects.filter(rating_count__gt=0)
    # when Top Rated asks whether a full page qualifies
    search._enough_top_rated(qualified, 3)
    # then the answer is cached under a digest of the SQL that every process computes
    # alike (Python's hash() of a str differs per process)
    digest = hashlib.sha1(str(qualified.query).encode(), usedforsecurity=False).hexdigest()
    assert cache.get(f"catalog:top-rated-enough:3:{digest}") is False


def test_the_floor_page_is_not_routed_by_default(client):
    assert client.get("/bench/floor/").status_code == 404
