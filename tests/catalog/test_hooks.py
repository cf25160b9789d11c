"""catalog.hooks: what catalog learns from higher apps, registered in their ready()."""

import pytest

from accounts.welcome import welcome_email_on_confirm
from analytics.services import engagement_record, product_view_record, search_miss_record
from catalog import hooks
from downloads.selectors import review_evidence_from_download
from marketplace import hooks as marketplace_hooks
from messaging import hooks as messaging_hooks
from messaging.post_selectors import product_questions_section
from messaging.posts import conversations_attach_guest
from orders import hooks as orders_hooks
from orders.reviews import review_evidence_from_purchase
from orders.selectors import order_context_for_messaging
from orders.services import orders_attach_guest_orders

EMPTY = [
    "_engagement",
    "_product_view",
    "_search_miss",
    "_download_entitlement",
    "_listing_metrics",
    "_review_evidence",
    "_review_reports",
    "_open_reports",
    "_review_request",
    "_product_questions",
]


def test_the_higher_apps_register_their_hooks_at_start_up():
    assert (hooks._engagement, hooks._product_view, hooks._search_miss) == (
        [engagement_record],
        [product_view_record],
        [search_miss_record],
    )
    # A paid line is asked before a free download (INSTALLED_APPS order).
    assert hooks._review_evidence == [review_evidence_from_purchase, review_evidence_from_download]
    assert len(hooks._listing_metrics) == 2 and len(hooks._download_entitlement) == 1
    assert len(hooks._review_reports) == 1 and len(hooks._review_request) == 1
    assert len(hooks._open_reports) == 1
    assert len(orders_hooks._line_download_rules) == 1
    # INSTALLED_APPS order: orders before messaging.
    assert marketplace_hooks._email_confirmed == [
        orders_attach_guest_orders,
        conversations_attach_guest,
        welcome_email_on_confirm,
    ]
    assert hooks._product_questions == [product_questions_section]
    assert messaging_hooks._order_context == [order_context_for_messaging]


def test_with_nothing_registered_every_hook_gives_the_neutral_answer(monkeypatch):
    for name in EMPTY:
        monkeypatch.setattr(hooks, name, [])
    monkeypatch.setattr(orders_hooks, "_line_download_rules", [])
    assert hooks.engagement_record(product_id=1, kind=hooks.ADD_TO_CART, user=None) is None
    assert hooks.search_miss_record(query="nothing") is None
    assert hooks.product_download_entitled(product=None, user=None) is False
    assert hooks.listing_metrics([1, 2]) == {}
    assert hooks.review_evidence(product=None, user=None) is None
    assert hooks.review_reports(product=None, user=None) is None
    assert hooks.review_request_send(order_id=1) is None
    assert hooks.product_questions(product=None, user=None, page=1) is None
    assert orders_hooks.order_line_grants_download(object()) is False


def test_registering_twice_keeps_one_hook(monkeypatch):
    monkeypatch.setattr(hooks, "_search_miss", [])
    seen = []

    def record(*, query):
        seen.append(query)

    hooks.register_search_miss(record)
    hooks.register_search_miss(record)
    hooks.search_miss_record(query="vase")
    assert seen == ["vase"]


@pytest.mark.django_db
def test_listing_metrics_merge_every_registered_column(monkeypatch):
    monkeypatch.setattr(
        hooks,
        "_listing_metrics",
        [lambda ids: {1: {"units_sold_net": 3}}, lambda ids: {1: {"downloads_unique": 2}}],
    )
    assert hooks.listing_metrics([1]) == {1: {"units_sold_net": 3, "downloads_unique": 2}}


@pytest.mark.django_db
def test_without_messaging_the_product_page_says_there_are_no_questions(client, monkeypatch):
    from tests.messaging.factories import live_product, question

    product = live_product()
    question(product=product, body="Hidden without the hook")
    monkeypatch.setattr(hooks, "_product_questions", [])
    html = client.get(product.get_absolute_url()).content.decode()
    assert "Hidden without the hook" not in html
    assert "No questions yet" in html


@pytest.mark.django_db
def test_without_orders_no_order_thread_can_be_started(client, monkeypatch):
    from django.urls import reverse

    from tests.factories import UserFactory
    from tests.messaging.factories import sold

    buyer = UserFactory()
    order, shop = sold(buyer=buyer)
    monkeypatch.setattr(messaging_hooks, "_order_context", [])
    client.force_login(buyer)
    url = reverse("messaging:start-order", kwargs={"order_pk": order.pk, "seller_pk": shop.pk})
    assert client.get(url).status_code == 404
