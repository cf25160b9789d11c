"""The staff Admin Ops page and the marketplace-wide search page: staff only, and each
block shows what the models hold (failed emails, events, balances, histograms)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.ops import LATENCY_BUCKETS, _latency_histograms, latency_bucket
from analytics.services import search_miss_record
from marketplace.models import User
from messaging.models import EmailLog
from moderation.models import Report
from payments.models import SellerBalanceEntry, StripeEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["analytics:staff-ops", "analytics:staff-searches"]


@pytest.mark.parametrize("name", STAFF_PAGES)
def test_staff_pages_are_for_staff_only(client, name):
    url = reverse(name)
    assert client.get(url).status_code == 302  # anonymous: log in
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404  # signed in, not staff
    seller = UserFactory()
    from tests.factories import SellerProfileFactory

    SellerProfileFactory(user=seller)
    client.force_login(seller)
    assert client.get(url).status_code == 404
    client.force_login(UserFactory(is_staff=True))
    assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    ("seconds", "bucket"),
    [(0, 0), (0.999, 0), (1, 1), (4.999, 1), (5, 2), (29.9, 2), (30, 3), (299.9, 3), (300, 4)],
)
def test_latency_buckets_include_their_lower_bound(seconds, bucket):
    assert latency_bucket(seconds) == bucket
    assert [label for _u, label in LATENCY_BUCKETS] == [
        "< 1 s",
        "1–5 s",
        "5–30 s",
        "30 s–5 min",
        "> 5 min",
    ]


def _event(
    event_id: str,
    *,
    status="PROCESSED",
    created_ago: float,
    received_ago: float,
    processed_after: float | None,
    error: str = "",
) -> StripeEvent:
    now = timezone.now()
    row = StripeEvent.objects.create(
        stripe_event_id=event_id,
        type="checkout.session.completed",
        endpoint="platform",
        payload={
            "id": event_id,
            "created": int((now - timedelta(seconds=created_ago)).timestamp()),
        },
        status=status,
        last_error=error,
    )
    received = now - timedelta(seconds=received_ago)
    StripeEvent.objects.filter(pk=row.pk).update(
        received_at=received,
        processed_at=None
        if processed_after is None
        else received + timedelta(seconds=processed_after),
    )
    return row


def test_the_latency_histogram_counts_each_event_in_its_bucket():
    # Stripe created → received: 2 s and 40 s (whole seconds: Stripe's `created`)
    _event("evt_a", created_ago=102, received_ago=100, processed_after=0.2)
    _event("evt_b", created_ago=140, received_ago=100, processed_after=10)
    _event("evt_c", status="RECEIVED", created_ago=1000, received_ago=700, processed_after=None)
    _event("evt_old", created_ago=9 * 86400, received_ago=8 * 86400, processed_after=1)
    since = timezone.now() - timedelta(days=7)
    delivered, processed, total = _latency_histograms(since=since)
    assert [b["count"] for b in delivered["buckets"]] == [0, 1, 0, 1, 1]  # 2 s, 40 s, 300 s
    assert [b["count"] for b in processed["buckets"]] == [1, 0, 1, 0, 0]  # 0.2 s, 10 s
    assert [b["count"] for b in total["buckets"]] == [0, 1, 0, 1, 0]  # 2.2 s, 50 s
    assert (delivered["total"], processed["total"], total["total"]) == (3, 2, 2)


def test_staff_see_what_needs_a_person(client):
    # given a failed and a stuck event, a failed email, money held by an unready seller,
    # an open report and a suspended user
    _event(
        "evt_broken",
        status="FAILED",
        created_ago=60,
        received_ago=59,
        processed_after=None,
        error="KeyError: 'order_id'",
    )
    _event(
        "evt_stuck", status="RECEIVED", created_ago=3600, received_ago=3600, processed_after=None
    )
    EmailLog.objects.create(
        key="k1",
        to="a@example.com",
        subject="Your receipt",
        template="t",
        status="FAILED",
        last_error="SMTP 451",
    )
    seller = UserFactory(email="maker@example.com")
    from tests.catalog.factories import ProductFactory
    from tests.orders.factories import paid_order

    order = paid_order(
        ProductFactory(
            seller=seller, status="PUBLISHED", complete=True, seller_ready=True, price_cents=1000
        )
    )
    SellerBalanceEntry.objects.create(
        seller=seller,
        amount_cents=900,
        currency="usd",
        reason="SALE",
        order=order,
        idempotency_key="t-sale",
    )
    User.objects.filter(pk=seller.pk).update(can_be_paid=False)
    Report.objects.create(
        kind="USER",
        target_id=str(seller.pk),
        reporter=UserFactory(),
        reason=Report.Reason.values[0],
    )
    User.objects.filter(pk=UserFactory().pk).update(is_suspended=True)
    client.force_login(UserFactory(is_staff=True))
    # when they open Admin Ops
    response = client.get(reverse("analytics:staff-ops"), {"days": 30})
    page = response.content.decode()
    # then every block shows it
    assert response.status_code == 200
    assert "evt_broken" in page and "KeyError: &#x27;order_id&#x27;" in page
    assert "evt_stuck" in page
    assert (
        reverse(
            "payments:staff-stripe-event-reprocess",
            kwargs={"pk": StripeEvent.objects.get(stripe_event_id="evt_broken").pk},
        )
        in page
    )
    assert "SMTP 451" in page and "Your receipt" in page
    assert "maker@example.com" in page and "Not ready: holding money" in page
    assert 'Open reports</p><p class="lead"><strong>1</strong>' in page
    assert 'Suspended users</p><p class="lead"><strong>1</strong>' in page
    assert "$10.00" in page  # gross sales of the window
    assert client.get(reverse("analytics:staff-ops"), {"days": "abc"}).status_code == 400


def test_staff_see_unmet_searches_marketplace_wide(client):
    for _ in range(3):
        search_miss_record(query="Chess SET")
    client.force_login(UserFactory(is_staff=True))
    page = client.get(reverse("analytics:staff-searches")).content.decode()
    assert "<strong>3</strong> searches for “<strong>chess set</strong>” found nothing" in page
    assert "list one" not in page  # sellers' call to action only
