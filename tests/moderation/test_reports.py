"""Reporting anything: who may report what, one open report per reporter and target,
guests with an order token, and the rate limit."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from moderation.models import Report
from tests.factories import UserFactory
from tests.moderation.helpers import (
    answer_to,
    conversation_message,
    public_product,
    question_on,
    review_of,
)
from tests.orders.factories import paid_order

pytestmark = pytest.mark.django_db


def _url(kind: str, pk: int, query: str = "") -> str:
    return reverse("moderation:report", args=[kind, pk]) + (f"?{query}" if query else "")


def test_a_verified_user_reports_each_kind_once_with_a_reason():
    # given
    product = public_product()
    question = question_on(product)
    targets = {
        "listing": (product.pk, product.seller),
        "question": (question.pk, question.author),
        "answer": (answer_to(question).pk, None),
        "review": (review_of(product).pk, None),
        "user": (product.seller.pk, product.seller),
    }
    from django.test import Client

    client = Client()
    reporter = UserFactory()
    client.force_login(reporter)
    for kind, (pk, _) in targets.items():
        # when
        form = client.get(_url(kind, pk))
        sent = client.post(_url(kind, pk), {"reason": "SPAM", "details": f"bad {kind}"})
        again = client.post(_url(kind, pk), {"reason": "OTHER"})
        # then
        assert form.status_code == 200, kind
        assert sent.status_code == 302, kind
        assert again.status_code == 400 and "already reported" in again.content.decode(), kind
    rows = Report.objects.filter(reporter=reporter)
    assert sorted(rows.values_list("kind", flat=True)) == sorted(k.upper() for k in targets)
    listing = rows.get(kind="LISTING")
    assert (listing.target_id, listing.subject_user, listing.details, listing.status) == (
        product.pk,
        product.seller,
        "bad listing",
        "OPEN",
    )


def test_a_report_needs_a_valid_reason_and_short_details(client):
    product = public_product()
    client.force_login(UserFactory())
    assert client.post(_url("listing", product.pk), {"reason": "BORED"}).status_code == 400
    long = client.post(_url("listing", product.pk), {"reason": "SPAM", "details": "x" * 1001})
    assert long.status_code == 400
    assert Report.objects.count() == 0


def test_you_cannot_report_your_own_listing(client):
    product = public_product()
    client.force_login(product.seller)
    response = client.post(_url("listing", product.pk), {"reason": "SPAM"})
    assert response.status_code == 400 and "your own listing" in response.content.decode()
    assert Report.objects.count() == 0


def test_hidden_things_and_unknown_kinds_are_404():
    from django.test import Client

    client = Client()
    client.force_login(UserFactory())
    draft = public_product()
    draft.status = "DRAFT"
    draft.save()
    question = question_on(public_product())
    question.removed_at = question.created_at
    question.save()
    assert client.get(_url("listing", draft.pk)).status_code == 404
    assert client.get(_url("question", question.pk)).status_code == 404
    assert client.get(_url("appeal", 1)).status_code == 404
    assert client.get(_url("ip", draft.pk)).status_code == 404
    assert client.get(_url("listing", 999999)).status_code == 404


def test_only_a_participant_may_report_a_message(client):
    participant = UserFactory()
    message = conversation_message(buyer=participant)
    client.force_login(UserFactory())
    assert client.get(_url("message", message.pk)).status_code == 404
    client.force_login(participant)
    assert client.post(_url("message", message.pk), {"reason": "OFFENSIVE"}).status_code == 302
    report = Report.objects.get()
    assert (report.kind, report.subject_user) == ("MESSAGE", message.sender)


def test_a_guest_with_the_order_token_reports_a_listing_and_their_orders_message(client):
    # given
    product = public_product()
    order = paid_order(product, email="guest@example.com")
    message = conversation_message(order=order)
    token = f"order={order.pk}&t={order.access_token}"
    # when
    listing = client.post(_url("listing", product.pk, token), {"reason": "FAKE"})
    msg = client.post(_url("message", message.pk, token), {"reason": "OFFENSIVE"})
    again = client.post(_url("message", message.pk, token), {"reason": "OFFENSIVE"})
    # then
    assert (listing.status_code, msg.status_code, again.status_code) == (302, 302, 400)
    assert set(Report.objects.values_list("kind", "reporter", "reporter_email")) == {
        ("LISTING", None, "guest@example.com"),
        ("MESSAGE", None, "guest@example.com"),
    }


def test_a_guest_with_a_wrong_token_or_another_kind_gets_nothing(client):
    product = public_product()
    order = paid_order(product, email="guest@example.com")
    wrong = f"order={order.pk}&t={'x' * 32}"
    assert client.post(_url("listing", product.pk, wrong), {"reason": "FAKE"}).status_code == 404
    token = f"order={order.pk}&t={order.access_token}"
    review = review_of(product)
    assert client.get(_url("review", review.pk, token)).status_code == 404
    # No token at all: log in first.
    anonymous = client.get(_url("listing", product.pk))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert Report.objects.count() == 0


def test_an_unverified_user_gets_the_verify_page_and_a_suspended_one_the_suspended_page(client):
    product = public_product()
    client.force_login(UserFactory(verified=False))
    assert client.get(_url("listing", product.pk)).status_code == 403
    suspended = UserFactory(is_suspended=True)
    client.force_login(suspended)
    response = client.post(_url("listing", product.pk), {"reason": "SPAM"})
    assert response.status_code == 403 and "Your account is suspended" in response.content.decode()
    assert Report.objects.count() == 0


def test_reporting_is_rate_limited_with_a_friendly_429(client, settings):
    settings.REPORT_RATE = "2/h"
    cache.clear()
    client.force_login(UserFactory())
    products = [public_product() for _ in range(3)]
    codes = [client.post(_url("listing", p.pk), {"reason": "SPAM"}).status_code for p in products]
    assert codes == [302, 302, 429]
    last = client.post(_url("listing", products[2].pk), {"reason": "SPAM"})
    assert last.status_code == 429 and "many reports" in last.content.decode()
    assert last["Retry-After"] == "3600"
    assert Report.objects.count() == 2


def test_the_product_page_links_to_the_report_form_for_others_only(client):
    product = public_product()
    link = _url("listing", product.pk)
    client.force_login(UserFactory())
    assert link in client.get(product.get_absolute_url()).content.decode()
    client.force_login(product.seller)
    assert link not in client.get(product.get_absolute_url()).content.decode()


def test_the_shop_page_links_to_reporting_its_owner(client):
    product = public_product()
    profile = product.seller.seller_profile
    link = _url("user", product.seller.pk)
    assert link not in client.get(profile.get_absolute_url()).content.decode()  # visitors
    client.force_login(UserFactory())
    assert link in client.get(profile.get_absolute_url()).content.decode()
