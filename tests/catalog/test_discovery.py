from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from analytics.models import ProductEngagementEvent, SearchMiss
from analytics.trending import trending_recompute
from catalog.models import Product
from catalog.search import BrowseFilters, product_browse, products_like
from catalog.trending import annotate_trending_badge
from marketplace.models import SiteConfig
from tests.catalog.factories import ProductFactory, category

pytestmark = pytest.mark.django_db

BROWSE = reverse("catalog:browse")


def _live(**kwargs) -> Product:
    return ProductFactory(status="PUBLISHED", complete=True, seller_ready=True, **kwargs)


def _titles(response) -> list[str]:
    return [p.title for p in response.context["products"]]


def _events(product, kind, n, *, age=timedelta(hours=1)):
    ProductEngagementEvent.objects.bulk_create(
        [ProductEngagementEvent(product=product, kind=kind, session_key=f"s{i}") for i in range(n)]
    )
    ProductEngagementEvent.objects.filter(product=product).update(created_at=timezone.now() - age)


# --- filters and sorts -------------------------------------------------------------------
def test_filters_combine_and_live_in_the_url(client):
    _live(title="Free STL Clip", price_cents=0, category=category("tools"))
    _live(title="Paid Planter", price_cents=900, category=category("home-garden-planters"))
    _live(
        title="Printed Pot",
        physical=True,
        price_cents=2500,
        category=category("home-garden-planters"),
    )
    assert _titles(client.get(BROWSE, {"price": "free"})) == ["Free STL Clip"]
    assert _titles(client.get(BROWSE, {"kind": "PHYSICAL"})) == ["Printed Pot"]
    # a parent category includes its descendants
    assert sorted(
        _titles(client.get(reverse("catalog:category-detail", args=["home-garden"])))
    ) == ["Paid Planter", "Printed Pot"]
    assert _titles(client.get(BROWSE, {"min_price": "5", "max_price": "10"})) == ["Paid Planter"]
    assert _titles(
        client.get(BROWSE, {"license": "PERSONAL", "kind": "FILE", "price": "paid"})
    ) == ["Paid Planter"]


def test_format_and_rating_filters(client):
    stl = _live(title="Has STL")
    Product.objects.filter(pk=stl.pk).update(file_formats=",stl,", rating_count=2, rating_sum=9)
    other = _live(title="Only ZIP")
    Product.objects.filter(pk=other.pk).update(file_formats=",zip,", rating_count=2, rating_sum=5)
    assert _titles(client.get(BROWSE, {"file_format": "stl"})) == ["Has STL"]
    assert _titles(client.get(BROWSE, {"min_rating": "4"})) == ["Has STL"]
    assert sorted(_titles(client.get(BROWSE, {"min_rating": "2"}))) == ["Has STL", "Only ZIP"]


def test_every_sort_orders_as_it_says(client):
    cheap, dear, popular = (
        _live(title="Cheap", price_cents=100),
        _live(title="Dear", price_cents=9000),
        _live(title="Popular", price_cents=500),
    )
    Product.objects.filter(pk=popular.pk).update(download_count=50)
    Product.objects.filter(pk=cheap.pk).update(published_at=timezone.now() - timedelta(days=3))
    Product.objects.filter(pk=dear.pk).update(published_at=timezone.now() - timedelta(days=2))
    Product.objects.filter(pk=popular.pk).update(published_at=timezone.now() - timedelta(days=1))
    assert _titles(client.get(BROWSE, {"sort": "price_asc"})) == ["Cheap", "Popular", "Dear"]
    assert _titles(client.get(BROWSE, {"sort": "price_desc"})) == ["Dear", "Popular", "Cheap"]
    assert _titles(client.get(BROWSE, {"sort": "downloads"}))[0] == "Popular"
    assert _titles(client.get(BROWSE, {"sort": "new"})) == ["Popular", "Dear", "Cheap"]


def test_bad_filter_input_is_a_400_with_the_page_not_a_500(client):
    response = client.get(BROWSE, {"min_price": "abc", "sort": "nonsense", "min_rating": "9"})
    assert response.status_code == 400
    assert "Enter a number." in response.content.decode()


def test_search_finds_words_in_title_tags_and_description_and_records_misses(client):
    product = _live(title="Self-Watering Planter", description="Keeps succulents happy for weeks.")
    product.tags.create(name="irrigation", slug="irrigation")
    _live(title="Cable Clip", description="Holds USB cables on a desk edge, no glue needed.")
    for q in ("planter", "succulents", "irrigation"):
        assert _titles(client.get(reverse("catalog:search"), {"q": q})) == [
            "Self-Watering Planter"
        ], q
    assert _titles(client.get(reverse("catalog:search"), {"q": "  Zebra  Unicorn "})) == []
    assert SearchMiss.objects.get().query == "zebra unicorn"
    client.get(reverse("catalog:search"), {"q": "zebra unicorn"})
    assert SearchMiss.objects.get().count == 2


def test_autocomplete_suggests_titles(client):
    _live(title="Planter Box")
    _live(title="Plate Rack")
    _live(title="Cable Clip")
    data = client.get(reverse("catalog:search-suggest"), {"q": "pla"}).json()
    assert data["suggestions"] == ["Planter Box", "Plate Rack"]
    assert client.get(reverse("catalog:search-suggest"), {"q": "p"}).json()["suggestions"] == []


# --- Top Rated ------------------------------------------------------------------------
def test_top_rated_uses_the_minimum_and_falls_back_with_a_banner(client):
    SiteConfig.objects.update_or_create(pk=1, defaults={"top_rated_min_reviews": 3})
    many = _live(title="Many Reviews")
    Product.objects.filter(pk=many.pk).update(rating_count=5, rating_sum=20)
    few = _live(title="Few Reviews")
    Product.objects.filter(pk=few.pk).update(rating_count=1, rating_sum=5)
    _live(title="Unrated")
    response = client.get(BROWSE, {"sort": "top"})
    # fewer than a page qualify: fall back to any rated listing, and say so
    assert _titles(response) == ["Few Reviews", "Many Reviews"]
    assert "Top Rated also shows listings with fewer reviews" in response.content.decode()
    result = product_browse(filters=BrowseFilters(sort="top"))
    assert result.top_rated_fallback is True


def test_top_rated_without_fallback_needs_no_banner():
    SiteConfig.objects.update_or_create(pk=1, defaults={"top_rated_min_reviews": 1})
    rated = _live(title="Rated")
    Product.objects.filter(pk=rated.pk).update(rating_count=1, rating_sum=4)
    result = product_browse(filters=BrowseFilters(sort="top"))
    assert [p.title for p in result.products] == ["Rated"]
    assert result.notices == []


# --- trending -------------------------------------------------------------------------
def test_trending_scores_follow_weights_and_decay_and_the_badge_rule():
    SiteConfig.objects.update_or_create(
        pk=1, defaults={"trending_top_n": 2, "trending_window_days": 7}
    )
    hot, warm, _cold, stale = (
        _live(title="Hot"),
        _live(title="Warm"),
        _live(title="Cold"),
        _live(title="Stale"),
    )
    _events(hot, "ADD_TO_CART", 2)  # 2 × 3 × 1.0 = 6
    _events(warm, "VIEW", 5, age=timedelta(days=2))  # 5 × 1 × 0.7 = 3.5
    _events(stale, "VIEW", 50, age=timedelta(days=30))  # outside the window: 0
    trending_recompute()
    scores = dict(Product.objects.values_list("title", "trending_score"))
    assert scores == {"Hot": 6.0, "Warm": 3.5, "Cold": 0.0, "Stale": 0.0}
    badges = {p.title: p.trending_badge for p in annotate_trending_badge(Product.objects.all())}
    # Top 2 and score > 0: Cold is not badged even though Top N has room for it elsewhere
    assert badges == {"Hot": True, "Warm": True, "Cold": False, "Stale": False}


def test_a_manual_override_comes_first_on_the_trending_sort_and_home(client):
    hot, pinned = _live(title="Hot"), _live(title="Pinned")
    _events(hot, "ADD_TO_CART", 3)
    trending_recompute()
    Product.objects.filter(pk=pinned.pk).update(trending_override_rank=1)
    assert _titles(client.get(BROWSE, {"sort": "trending"}))[:2] == ["Pinned", "Hot"]
    home = client.get("/")
    assert [p.title for p in home.context["trending_products"]] == ["Pinned", "Hot"]


def test_the_badge_is_the_same_on_home_and_browse(client):
    SiteConfig.objects.update_or_create(pk=1, defaults={"trending_top_n": 1})
    first, second = _live(title="First"), _live(title="Second")
    _events(first, "ADD_TO_CART", 2)
    _events(second, "VIEW", 1)
    trending_recompute()
    browse = {p.title: p.trending_badge for p in client.get(BROWSE).context["products"]}
    home = {p.title: p.trending_badge for p in client.get("/").context["latest_products"]}
    assert browse == home == {"First": True, "Second": False}


# --- view events ----------------------------------------------------------------------
def test_views_are_throttled_per_viewer_and_skip_the_seller_and_bots(
    client, django_capture_on_commit_callbacks
):
    product = _live()
    ua = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"}
    with django_capture_on_commit_callbacks(execute=True):
        client.get(product.get_absolute_url(), headers=ua)
        client.get(product.get_absolute_url(), headers=ua)
    assert ProductEngagementEvent.objects.filter(kind="VIEW").count() == 1
    bot = client.__class__()
    with django_capture_on_commit_callbacks(execute=True):
        bot.get(product.get_absolute_url(), headers={"User-Agent": "Googlebot/2.1"})
    client.force_login(product.seller)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(product.get_absolute_url(), headers=ua)
    assert ProductEngagementEvent.objects.filter(kind="VIEW").count() == 1


# --- more like this ----------------------------------------------------------------
def test_more_like_this_prefers_shared_tags_and_never_the_product():
    base = _live(title="Base", category=category("tools"))
    tag = base.tags.create(name="clamp", slug="clamp")
    twin = _live(title="Twin", category=category("art"))
    twin.tags.add(tag)
    _live(title="Same Category", category=category("tools"))
    _live(title="Unrelated", category=category("art"))
    assert [p.title for p in products_like(base)] == ["Twin", "Same Category"]


# --- query counts ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "sort", ["", "new", "trending", "top", "price_asc", "price_desc", "downloads"]
)
def test_browse_queries_do_not_grow_with_the_catalog(client, django_assert_max_num_queries, sort):
    for _ in range(3):
        _live()
    with django_assert_max_num_queries(12) as few:
        client.get(BROWSE, {"sort": sort})
    for _ in range(12):
        _live()
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(BROWSE, {"sort": sort})
    assert response.status_code == 200


def test_home_and_product_pages_have_constant_queries(client, django_assert_max_num_queries):
    products = [_live() for _ in range(3)]
    with django_assert_max_num_queries(15) as home:
        client.get("/")
    with django_assert_max_num_queries(15) as detail:
        client.get(products[0].get_absolute_url())
    for _ in range(10):
        _live()
    with django_assert_max_num_queries(len(home.captured_queries)):
        client.get("/")
    with django_assert_max_num_queries(len(detail.captured_queries)):
        client.get(products[0].get_absolute_url())


@pytest.mark.skipif(
    __import__("django.db").db.connection.vendor != "postgresql", reason="trigram search is PG"
)
def test_postgres_search_tolerates_a_typo_and_ranks_title_over_description(client):
    _live(title="Self-Watering Planter", description="For herbs.")
    _live(title="Herb Marker", description="Goes in any planter.")
    assert _titles(client.get(reverse("catalog:search"), {"q": "planer"}))[0] == (
        "Self-Watering Planter"
    )
    assert _titles(client.get(reverse("catalog:search"), {"q": "planter"})) == [
        "Self-Watering Planter",
        "Herb Marker",
    ]
    suggestions = client.get(reverse("catalog:search-suggest"), {"q": "planer"}).json()
    assert "Self-Watering Planter" in suggestions["suggestions"]


def test_an_out_of_stock_printed_item_leaves_the_home_trending_row_but_browse_marks_it(client):
    hot = _live(title="Hot Print", physical=True)
    gone = _live(title="Sold Out Print", physical=True)
    _events(hot, "ADD_TO_CART", 3)
    _events(gone, "ADD_TO_CART", 5)
    trending_recompute()
    Product.objects.filter(pk=gone.pk).update(stock_quantity=0)
    home = client.get("/")
    assert [p.title for p in home.context["trending_products"]] == ["Hot Print"]
    browse = {p.title: p for p in client.get(BROWSE, {"sort": "trending"}).context["products"]}
    assert browse["Sold Out Print"].cannot_buy_reason == "Out of stock."


def test_home_top_rated_row_shows_the_browse_fallback_banner(client):
    SiteConfig.objects.update_or_create(pk=1, defaults={"top_rated_min_reviews": 3})
    few = _live(title="Few Reviews")
    Product.objects.filter(pk=few.pk).update(rating_count=1, rating_sum=5)
    home = client.get("/")
    banner = product_browse(filters=BrowseFilters(sort="top")).notices
    assert banner and home.context["top_rated_notices"] == banner
    assert [p.title for p in home.context["top_rated_products"]] == ["Few Reviews"]
    html = home.content.decode()
    assert html.count("data-top-rated-fallback") == 1 and banner[0] in html
    SiteConfig.objects.update_or_create(pk=1, defaults={"top_rated_min_reviews": 1})
    cache.clear()  # the site configuration is cached
    assert "data-top-rated-fallback" not in client.get("/").content.decode()


def test_the_badge_is_the_same_on_the_shop_page_and_the_saved_page(client):
    from catalog.models import Favorite, WishlistItem
    from tests.factories import SellerProfileFactory, UserFactory

    SiteConfig.objects.update_or_create(pk=1, defaults={"trending_top_n": 1})
    seller = SellerProfileFactory().user
    first, second = _live(title="First", seller=seller), _live(title="Second", seller=seller)
    _events(first, "ADD_TO_CART", 2)
    _events(second, "VIEW", 1)
    trending_recompute()
    expected = {"First": True, "Second": False}
    browse = {p.title: p.trending_badge for p in client.get(BROWSE).context["products"]}
    shop = client.get(seller.seller_profile.get_absolute_url())
    assert {p.title: p.trending_badge for p in shop.context["products"]} == browse == expected
    assert shop.content.decode().count("badge--trending") == 1
    buyer = UserFactory()
    for product in (first, second):
        Favorite.objects.create(user=buyer, product=product)
        WishlistItem.objects.create(user=buyer, product=product)
    client.force_login(buyer)
    saved = client.get(reverse("social:saved"))
    assert {p.title: p.trending_badge for p in saved.context["favorites"]} == expected
    assert {p.title: p.trending_badge for p in saved.context["wishlist"]} == expected
    assert saved.content.decode().count("badge--trending") == 2
