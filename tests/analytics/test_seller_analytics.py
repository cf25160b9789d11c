"""Seller analytics: figures against hand-computed fixtures, window edges in the seller's
time zone, agreement with the payouts and listings pages, CLICK recording, CSV, access."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics.models import ProductEngagementEvent
from analytics.seller import seller_analytics, window_for
from analytics.services import search_miss_record
from catalog import hooks as catalog_hooks
from catalog.models import Favorite
from payments.selectors import payout_totals_for_seller
from refunds.models import RefundRequest
from refunds.services import refund_request_approve, refund_request_create
from tests.analytics.conftest import BROWSER
from tests.catalog.factories import ProductFactory
from tests.factories import SellerProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

NY = "America/New_York"


def _seller(tz: str = NY):
    return SellerProfileFactory(time_zone=tz).user


def _live(seller, **kw):
    return ProductFactory(seller=seller, status="PUBLISHED", complete=True, seller_ready=True, **kw)


def _event(product, kind: str, at: datetime, **kw) -> None:
    row = ProductEngagementEvent.objects.create(product=product, kind=kind, **kw)
    ProductEngagementEvent.objects.filter(pk=row.pk).update(created_at=at)


# --- windows and time zones -----------------------------------------------------------
def test_a_window_counts_whole_days_in_the_sellers_time_zone_edges_included():
    # given a seller in New York and views around the edges of 1–7 March (local days)
    seller = _seller(NY)
    product = _live(seller)
    ny = ZoneInfo(NY)
    first_instant = datetime(2026, 3, 1, 0, 0, tzinfo=ny)
    after_last = datetime(2026, 3, 8, 0, 0, tzinfo=ny)
    _event(product, "VIEW", first_instant)  # in: the first local midnight
    _event(product, "VIEW", after_last - timedelta(microseconds=1))  # in: the last instant
    _event(product, "VIEW", first_instant - timedelta(seconds=1))  # out: the day before
    _event(product, "VIEW", after_last)  # out: the day after
    _event(product, "CLICK", first_instant + timedelta(hours=3), source="search", query="pot")
    _event(product, "ADD_TO_CART", first_instant + timedelta(days=2))
    # when the window is the seller's 1–7 March
    window = window_for(tz_name=NY, first=date(2026, 3, 1), last=date(2026, 3, 7))
    report = seller_analytics(seller=seller, window=window)
    # then exactly the four inside count, by kind
    row = report.listings[0]
    assert (row.views, row.clicks, row.add_to_cart) == (2, 1, 1)
    assert [d["views"] for d in report.daily] == [1, 0, 0, 0, 0, 0, 1]
    assert [s["count"] for s in report.funnel] == [2, 1, 1, 0]
    assert report.funnel[1]["rate"] == 50.0
    # and the same instants seen from UTC fall into other days: 1 March 00:00 New York is
    # 05:00 UTC (in), 23:59:59 on the 7th is 04:59:59 on the 8th UTC (out), the day
    # before's last second is 04:59:59 UTC on 1 March (in), the day after's midnight too.
    utc = window_for(tz_name="UTC", first=date(2026, 3, 1), last=date(2026, 3, 7))
    assert seller_analytics(seller=seller, window=utc).listings[0].views == 2
    assert [d["views"] for d in seller_analytics(seller=seller, window=utc).daily] == [
        2,
        0,
        0,
        0,
        0,
        0,
        0,
    ]


def test_the_last_n_days_end_today_in_the_sellers_zone():
    today = timezone.now().astimezone(ZoneInfo("Asia/Tokyo")).date()
    for days in (7, 30, 90):
        window = window_for(tz_name="Asia/Tokyo", days=days)
        assert (window.first, window.last, len(window.days)) == (
            today - timedelta(days=days - 1),
            today,
            days,
        )


# --- money and units agree with the payouts and listings pages -------------------------
def test_revenue_and_units_agree_with_the_payouts_and_listings_pages_to_the_cent(
    client, pay, django_capture_on_commit_callbacks
):
    # given two paid orders of a seller's printed item and file, one file line refunded
    seller = _seller("UTC")
    printed = _live(seller, physical=True, price_cents=3000, shipping_cents=500, stock_quantity=9)
    file = _live(seller, price_cents=1299)
    other = _live(_seller())  # another seller's sale must not show
    buyer = UserFactory()
    pay(printed, file, buyer=buyer)
    second = pay(printed, file, other, buyer=UserFactory(), quantity=2)
    line = second.items.get(product=file)
    with django_capture_on_commit_callbacks(execute=True):
        request = refund_request_create(
            item=line, requested_by=second.buyer, reason=RefundRequest.Reason.CHANGED_MIND
        )
        request.refresh_from_db()
        if request.status == RefundRequest.Status.REQUESTED:
            refund_request_approve(request=request, actor=seller)
    line.refresh_from_db()
    assert line.refunded_at is not None
    Favorite.objects.create(user=buyer, product=printed)
    # when the seller looks at the last 7 days
    window = window_for(tz_name="UTC", days=7)
    report = seller_analytics(seller=seller, window=window)
    by = {r.product.pk: r for r in report.listings}
    # then units and purchases: 1 + 2 printed, 1 file (the refunded line of 2 is not net)
    assert (by[printed.pk].purchases, by[printed.pk].units_net) == (2, 3)
    assert (by[file.pk].purchases, by[file.pk].units_net) == (2, 1)
    assert by[printed.pk].favorites == 1 and other.pk not in by
    # the listings page's column, by its own hook, says the same units
    metrics = catalog_hooks.listing_metrics([printed.pk, file.pk])
    assert metrics[printed.pk]["units_sold_net"] == by[printed.pk].units_net
    assert metrics[file.pk]["units_sold_net"] == by[file.pk].units_net
    # the payouts page's "earned" is the revenue total, to the cent
    earned = payout_totals_for_seller(seller=seller)["usd"]["earned"]
    assert report.revenue_by_currency == {"usd": earned}
    assert by[printed.pk].revenue_cents + by[file.pk].revenue_cents == earned
    # and by hand: net of the 10% fee, shipping allocated to the printed lines, the
    # refunded file line (2 × 12.99 less its fee) taken back
    fee = lambda cents: (cents + 5) // 10  # noqa: E731  10% (1000 bps), half up
    printed_net = (3000 - fee(3000)) + (6000 - fee(6000)) + 500 + 500
    file_net = 1299 - fee(1299)
    assert by[printed.pk].revenue_cents == printed_net
    assert by[file.pk].revenue_cents == file_net
    # and both pages render the same amount
    client.force_login(seller)
    analytics_page = client.get(reverse("analytics:seller-analytics"), {"days": 7})
    payouts_page = client.get(reverse("payments:payouts-dashboard"))
    shown = f"${earned / 100:,.2f}"
    assert shown in analytics_page.content.decode()
    assert shown in payouts_page.content.decode()


def test_the_query_count_does_not_grow_with_the_number_of_listings(pay):
    seller = _seller("UTC")
    window = window_for(tz_name="UTC", days=30)
    first = _live(seller)
    pay(first)
    with CaptureQueriesContext(connection) as one:
        seller_analytics(seller=seller, window=window)
    for _ in range(5):
        product = _live(seller)
        _event(product, "VIEW", timezone.now())
        pay(product)
    with CaptureQueriesContext(connection) as six:
        report = seller_analytics(seller=seller, window=window)
    assert len(report.listings) == 6 and report.totals["purchases"] == 6
    assert len(six) == len(one) <= 10


# --- CLICK events ---------------------------------------------------------------------
def test_a_card_click_is_recorded_once_per_visitor_with_its_search_and_never_for_bots(
    client, django_capture_on_commit_callbacks
):
    product = _live(_seller())
    url = product.get_absolute_url()
    with django_capture_on_commit_callbacks(execute=True):
        client.get(url, {"src": "search", "q": "  Articulated   DRAGON "}, headers=BROWSER)
        client.get(url, {"src": "search", "q": "dragon"}, headers=BROWSER)  # same window
        client.get(url, {"src": "nowhere"}, headers=BROWSER)  # unknown source
    clicks = ProductEngagementEvent.objects.filter(kind="CLICK")
    assert list(clicks.values_list("source", "query")) == [("search", "articulated dragon")]
    # a bot and the seller themselves are never counted
    bot = client.__class__()
    with django_capture_on_commit_callbacks(execute=True):
        bot.get(url, {"src": "home"}, headers={"User-Agent": "Googlebot/2.1"})
    seller_client = client.__class__()
    seller_client.force_login(product.seller)
    with django_capture_on_commit_callbacks(execute=True):
        seller_client.get(url, {"src": "home"}, headers=BROWSER)
    assert clicks.count() == 1
    # another visitor (another address: a guest is told apart by their client IP) from the
    # home page is
    other = client.__class__(REMOTE_ADDR="203.0.113.9")
    with django_capture_on_commit_callbacks(execute=True):
        other.get(url, {"src": "home", "q": "ignored"}, headers=BROWSER)
    assert sorted(clicks.values_list("source", "query")) == [
        ("home", ""),
        ("search", "articulated dragon"),
    ]


def test_cards_link_with_their_source_and_search(client):
    product = _live(_seller(), title="Articulated Dragon")
    page = client.get(reverse("catalog:search"), {"q": "dragon"}).content.decode()
    assert f"{product.get_absolute_url()}?src=search&amp;q=dragon" in page
    home = client.get(reverse("catalog:home")).content.decode()
    assert f"{product.get_absolute_url()}?src=home" in home


# --- what buyers look for ------------------------------------------------------------
def test_the_seller_sees_unmet_searches_and_the_searches_that_led_to_them(client):
    seller = _seller()
    product = _live(seller, title="Dragon planter")
    for _ in range(12):
        search_miss_record(query="Articulated dragon")
    search_miss_record(query="chess set")
    _event(product, "CLICK", timezone.now(), source="search", query="planter")
    _event(product, "CLICK", timezone.now(), source="search", query="planter")
    client.force_login(seller)
    page = client.get(reverse("analytics:seller-analytics")).content.decode()
    assert (
        "<strong>12</strong> searches for “<strong>articulated dragon</strong>” found nothing"
        in page
    )
    assert "close to your shop" in page  # "dragon" is in their title
    assert "“planter”" in page and "Dragon planter" in page


# --- CSV and access --------------------------------------------------------------------
def test_the_csv_has_one_row_per_own_listing_in_the_window(client):
    seller = _seller("UTC")
    product = _live(seller, title="=cmd")
    _live(_seller(), title="Not mine")
    _event(product, "VIEW", datetime(2026, 5, 2, 12, tzinfo=ZoneInfo("UTC")))
    client.force_login(seller)
    url = reverse("analytics:seller-analytics-export")
    response = client.get(url, {"date_from": "2026-05-01", "date_to": "2026-05-03"})
    assert response.status_code == 200
    lines = response.content.decode().strip().splitlines()
    assert lines[0].startswith("listing_id,title,views,clicks")
    assert lines[1:] == [f"{product.pk},'=cmd,1,0,0,0,0,0,0,0,0,usd"]
    bad = client.get(url, {"date_from": "2026-05-03", "date_to": "2026-05-01"})
    assert bad.status_code == 400
    assert client.get(reverse("analytics:seller-analytics"), {"date_from": "x"}).status_code == 400


def test_only_sellers_see_analytics(client):
    url = reverse("analytics:seller-analytics")
    assert client.get(url).status_code == 302  # anonymous: log in
    client.force_login(UserFactory())
    response = client.get(url)
    assert response.status_code == 302  # no shop yet
    assert response["Location"] == reverse("marketplace:seller-profile-create")


def test_the_seller_chooses_their_time_zone_in_shop_settings(client):
    profile = SellerProfileFactory()
    assert profile.time_zone == "UTC"  # settings.TIME_ZONE
    client.force_login(profile.user)
    url = reverse("marketplace:seller-profile-update")
    data = {"display_name": profile.display_name, "slug": profile.slug, "bio": ""}
    assert client.post(url, {**data, "time_zone": "Mars/Olympus"}).status_code == 400
    assert client.post(url, {**data, "time_zone": "Europe/Paris"}).status_code == 302
    profile.refresh_from_db()
    assert profile.time_zone == "Europe/Paris"
