"""The refund pages (buyer, seller, staff): who may use each one, and the flows through
them against the real services and the local payment simulator.

Access rule the matrix checks: buyer pages answer the order's buyer or whoever holds
the order's token, 404 to everyone else; seller pages send a user without a shop to
open one (302) and answer 404 for another seller's line; staff pages send anonymous
visitors to log in (302) and answer 404 to signed-in non-staff."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from orders.models import OrderItem
from payments.models import PaymentRefund
from refunds.models import RefundRequest
from refunds.services import refund_request_approve, refund_request_create
from tests.factories import UserFactory
from tests.refunds.roles import ROLES, as_role

pytestmark = pytest.mark.django_db


def _request(w, **kwargs) -> RefundRequest:
    """The buyer's request for $20 of the printed line, waiting for the seller."""
    return refund_request_create(
        item=w.line,
        requested_by=w.buyer,
        reason=kwargs.pop("reason", "DAMAGED"),
        note=kwargs.pop("note", "Cracked"),
        amount_cents=kwargs.pop("amount_cents", 2000),
    )


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# ------------------------------------------------------------------------------
# Permission matrix
# ------------------------------------------------------------------------------
BUYER_ONLY = {r: 404 for r in ROLES} | {"guest": 200, "buyer": 200}


@pytest.mark.parametrize("role", ROLES)
def test_request_page_answers_only_the_buyer_and_the_token_holder(client, world, role):
    # given the order of a buyer
    query = as_role(client, world, role)
    # when someone opens the refund request page of a line
    response = client.get(f"/orders/{world.order.pk}/items/{world.line.pk}/refund/{query}")
    # then only the buyer and the token holder see it
    assert response.status_code == BUYER_ONLY[role]


@pytest.mark.parametrize("role", ROLES)
def test_request_post_is_refused_to_everyone_but_the_buyer(
    client, world, role, django_capture_on_commit_callbacks
):
    # given the order of a buyer
    query = as_role(client, world, role)
    # when someone sends a refund request for its printed line
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/orders/{world.order.pk}/items/{world.line.pk}/refund/{query}",
            {"reason": "DAMAGED", "note": "Cracked", "amount": ""},
        )
    # then the buyer and the token holder are heard; nobody else writes anything
    if role in ("guest", "buyer"):
        assert response.status_code == 302
        assert RefundRequest.objects.count() == 1
    else:
        assert response.status_code == 404
        assert RefundRequest.objects.count() == 0


@pytest.mark.parametrize("role", ROLES)
def test_refund_detail_answers_only_the_buyer_and_the_token_holder(client, world, role):
    # given a request on the order
    refund = _request(world)
    query = as_role(client, world, role)
    # when someone opens it
    response = client.get(f"/refunds/{refund.pk}/{query}")
    # then
    assert response.status_code == BUYER_ONLY[role]


@pytest.mark.parametrize("role", ROLES)
def test_cancel_is_refused_to_everyone_but_the_buyer(client, world, role):
    # given a waiting request
    refund = _request(world)
    query = as_role(client, world, role)
    # when someone withdraws it
    response = client.post(f"/refunds/{refund.pk}/cancel/{query}")
    refund.refresh_from_db()
    # then only the buyer and the token holder can, and nobody else changes it
    if role in ("guest", "buyer"):
        assert (response.status_code, refund.status) == (302, "CANCELED")
    else:
        assert (response.status_code, refund.status) == (404, "REQUESTED")


@pytest.mark.parametrize(
    "role, status, shows",
    [
        ("anonymous", 302, False),
        ("guest", 302, False),
        ("buyer", 200, True),
        ("other_buyer", 200, False),
        ("seller", 200, False),
        ("staff", 200, False),
    ],
)
def test_refund_list_shows_only_the_buyers_own_refunds(client, world, role, status, shows):
    # given a request on the buyer's order
    _request(world)
    as_role(client, world, role)
    # when someone opens "Your refunds"
    response = client.get("/refunds/")
    # then anonymous visitors log in, and each person sees only their own
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith("/accounts/login/")
    else:
        assert ("Painted Dragon" in response.content.decode()) is shows


SELLER_PAGES = {"anonymous": 302, "guest": 302, "wrong_token": 302, "buyer": 302}
SELLER_PAGES |= {"other_buyer": 302, "staff": 302, "seller": 200, "other_seller": 404}


@pytest.mark.parametrize("role", ROLES)
def test_seller_request_page_answers_only_the_lines_seller(client, world, role):
    # given a request on the seller's line
    refund = _request(world)
    as_role(client, world, role)
    # when someone opens the seller's decision page
    response = client.get(f"/seller/refunds/{refund.pk}/")
    # then only its seller sees it (without a shop: open one; another seller: 404)
    assert response.status_code == SELLER_PAGES[role]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("decision", ["approve", "decline"])
def test_seller_decisions_are_refused_to_everyone_but_the_lines_seller(
    client, world, role, decision, django_capture_on_commit_callbacks
):
    # given a waiting request
    refund = _request(world)
    as_role(client, world, role)
    # when someone approves or declines it
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/seller/refunds/{refund.pk}/{decision}/", {f"{decision}-note": "No"}
        )
    refund.refresh_from_db()
    # then only the line's seller decides; nothing changes for anyone else
    if role == "seller":
        assert response.status_code == 302
        assert refund.status == ("REFUNDED" if decision == "approve" else "DECLINED")
    else:
        assert response.status_code == SELLER_PAGES[role]
        assert refund.status == "REQUESTED"
        assert PaymentRefund.objects.count() == 0


@pytest.mark.parametrize("role", ROLES)
def test_seller_line_refund_is_refused_to_everyone_but_the_lines_seller(
    client, world, role, django_capture_on_commit_callbacks
):
    # given a paid line
    as_role(client, world, role)
    url = f"/seller/sales/{world.line.pk}/refund/"
    # when someone opens the seller's refund page and refunds the line
    page = client.get(url)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"amount": "", "note": "Cannot make it"})
    # then only its seller can; nothing is written for anyone else
    assert page.status_code == SELLER_PAGES[role]
    if role == "seller":
        assert response.status_code == 302
        assert RefundRequest.objects.get().status == "REFUNDED"
    else:
        assert response.status_code == SELLER_PAGES[role]
        assert RefundRequest.objects.count() == 0
        assert PaymentRefund.objects.count() == 0


def test_seller_queue_lists_only_the_sellers_own_requests(client, world):
    # given a request on the seller's line
    _request(world)
    # when the seller, another seller and a user without a shop open the queue
    client.force_login(world.seller)
    own = client.get("/seller/refunds/")
    client.force_login(world.other_seller)
    other = client.get("/seller/refunds/")
    client.force_login(world.buyer)
    no_shop = client.get("/seller/refunds/")
    client.logout()
    anonymous = client.get("/seller/refunds/")
    # then
    assert own.status_code == 200 and "Painted Dragon" in own.content.decode()
    assert other.status_code == 200 and "Painted Dragon" not in other.content.decode()
    assert (no_shop.status_code, no_shop["Location"]) == (302, "/seller/shop/new/")
    assert anonymous["Location"].startswith("/accounts/login/")


STAFF_ONLY = {r: 404 for r in ROLES} | {"anonymous": 302, "guest": 302, "wrong_token": 302}
STAFF_ONLY |= {"staff": 200}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "path",
    [
        "/staff/refunds/",
        "/staff/refunds/items/{line}/refund/",
        "/staff/disputes/",
        "/staff/reconciliation/",
        "/staff/reconciliation/orders/{order}/",
        "/staff/reconciliation/export.csv?date_from=2020-01-01&date_to=2030-01-01",
        "/payments/simulator/orders/{order}/money/",
    ],
)
def test_staff_pages_answer_only_staff(client, world, role, path):
    # given an order
    query = as_role(client, world, role)
    url = path.format(line=world.line.pk, order=world.order.pk)
    # when someone opens a staff page (token holders bring their token along)
    response = client.get(url + (("&" if "?" in url else "?") + query[1:] if query else ""))
    # then anonymous visitors log in, other non-staff get a 404, staff see it
    assert response.status_code == STAFF_ONLY[role]
    if response.status_code == 302:
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", ROLES)
def test_staff_refund_post_is_refused_to_non_staff(
    client, world, role, django_capture_on_commit_callbacks
):
    # given a paid line
    as_role(client, world, role)
    # when someone posts the staff refund with a reason
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/staff/refunds/items/{world.line.pk}/refund/",
            {"amount": "", "reason": "OTHER", "note": "Goodwill"},
        )
    # then only staff refund; nothing is written for anyone else
    if role == "staff":
        assert response.status_code == 302
        refund = RefundRequest.objects.get()
        assert (refund.initiated_by, refund.status, refund.decision_note) == (
            "STAFF",
            "REFUNDED",
            "Goodwill",
        )
    else:
        assert response.status_code == STAFF_ONLY[role]
        assert RefundRequest.objects.count() == 0


@pytest.mark.parametrize("role", ROLES)
def test_simulator_actions_are_refused_to_non_staff(
    client, world, role, django_capture_on_commit_callbacks
):
    # given a paid order in test mode
    as_role(client, world, role)
    # when someone asks the simulator for a dashboard refund
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/payments/simulator/orders/{world.order.pk}/money/", {"action": "refund"}
        )
    # then only staff can; nothing is refunded for anyone else
    if role == "staff":
        assert response.status_code == 302
        assert PaymentRefund.objects.get().reason == "OUTSIDE"
    else:
        assert response.status_code == STAFF_ONLY[role]
        assert PaymentRefund.objects.count() == 0


def test_simulator_page_is_a_404_with_a_real_stripe_key_even_for_staff(client, world, settings):
    # given real Stripe keys
    settings.STRIPE_SECRET_KEY = "sk_test_real"
    client.force_login(world.staff)
    url = f"/payments/simulator/orders/{world.order.pk}/money/"
    # when staff open the simulator page or post to it
    page = client.get(url)
    post = client.post(url, {"action": "refund"})
    # then it does not exist, and nothing happened
    assert (page.status_code, post.status_code) == (404, 404)
    assert PaymentRefund.objects.count() == 0


# ------------------------------------------------------------------------------
# Buyer flow
# ------------------------------------------------------------------------------
def test_order_page_offers_a_refund_per_eligible_line_and_then_shows_its_status(client, world):
    # given the buyer on their order page
    client.force_login(world.buyer)
    url = world.order.get_absolute_url()
    create = f"/orders/{world.order.pk}/items/{world.line.pk}/refund/"
    # when they look before and after asking
    before = client.get(url).content.decode()
    refund = _request(world)
    after = client.get(url).content.decode()
    # then each line offers "Request a refund" until asked, then shows the chip
    assert before.count("Request a refund") == 2
    assert create in before
    assert after.count("Request a refund") == 1
    assert f"/refunds/{refund.pk}/" in after
    assert 'data-refund-status="REQUESTED"' in after


def test_staff_viewing_an_order_page_is_not_offered_the_buyers_refund_link(client, world):
    client.force_login(world.staff)
    response = client.get(world.order.get_absolute_url())
    assert response.status_code == 200
    assert "Request a refund" not in response.content.decode()


def test_request_page_shows_the_policy_window_and_amount_left(client, world, settings):
    # given the buyer, and a printed line delivered today
    OrderItem.objects.filter(pk=world.line.pk).update(
        fulfillment_status="DELIVERED", delivered_at=timezone.now()
    )
    client.force_login(world.buyer)
    # when they open the request page
    response = client.get(f"/orders/{world.order.pk}/items/{world.line.pk}/refund/")
    body = response.content.decode()
    # then they read the policy, when the window ends and what is left (no shipping:
    # it was delivered)
    ends = timezone.localtime(timezone.now() + timedelta(days=14))
    assert response.status_code == 200
    assert "You can ask for a refund within 14 days: from payment for files" in body
    assert "Shipping is refunded while the item has not shipped." in body
    assert f"{ends:%-d %b %Y}" in body
    assert "$30.00" in body
    for reason in ("It never arrived", "It arrived damaged", "I changed my mind"):
        assert reason in body


def test_a_buyer_asks_for_part_of_a_line_through_the_page(client, world):
    # given the buyer
    client.force_login(world.buyer)
    # when they ask for $20.00 of the printed line
    response = client.post(
        f"/orders/{world.order.pk}/items/{world.line.pk}/refund/",
        {"reason": "DAMAGED", "note": "Cracked <b>wing</b>", "amount": "20.00"},
    )
    # then a request waits for the seller and they land on it with a message
    refund = RefundRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/refunds/{refund.pk}/"
    assert (refund.status, refund.requested_amount_cents, refund.requested_by) == (
        "REQUESTED",
        2000,
        world.buyer,
    )
    assert _messages(response) == ["Your request for $20.00 is sent to the seller."]
    # and the note is shown escaped
    page = client.get(response["Location"]).content.decode()
    assert "Cracked &lt;b&gt;wing&lt;/b&gt;" in page
    assert "<b>wing</b>" not in page


def test_a_guest_with_the_token_gets_an_undownloaded_file_refunded_at_once(
    client, world, django_capture_on_commit_callbacks
):
    # given a guest holding the order's link
    token = world.order.access_token
    # when they ask for the file they never downloaded
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/orders/{world.order.pk}/items/{world.file_line.pk}/refund/?t={token}",
            {"reason": "CHANGED_MIND", "note": "", "amount": ""},
        )
    # then it is refunded at once, and their page keeps the token
    refund = RefundRequest.objects.get()
    refund.refresh_from_db()
    assert response["Location"] == f"/refunds/{refund.pk}/?t={token}"
    assert (refund.status, refund.requested_amount_cents, refund.requested_by) == (
        "REFUNDED",
        1200,
        None,
    )
    assert _messages(response) == ["Your refund of $12.00 is on its way."]
    page = client.get(response["Location"]).content.decode()
    assert 'data-refund-status="REFUNDED"' in page


def test_a_request_without_a_reason_is_a_400_and_writes_nothing(client, world):
    client.force_login(world.buyer)
    response = client.post(
        f"/orders/{world.order.pk}/items/{world.line.pk}/refund/", {"reason": "", "amount": ""}
    )
    assert response.status_code == 400
    assert RefundRequest.objects.count() == 0


def test_more_than_the_line_has_left_is_a_400_with_the_services_reason(client, world):
    client.force_login(world.buyer)
    response = client.post(
        f"/orders/{world.order.pk}/items/{world.line.pk}/refund/",
        {"reason": "DAMAGED", "amount": "35.01"},
    )
    assert response.status_code == 400
    assert "Ask for an amount between 0.01 and the 35.00 left." in response.content.decode()
    assert RefundRequest.objects.count() == 0


def test_a_closed_window_is_explained_with_a_403_and_no_form(client, world):
    # given a printed line delivered 15 days ago (window: 14 days)
    OrderItem.objects.filter(pk=world.line.pk).update(
        fulfillment_status="DELIVERED", delivered_at=timezone.now() - timedelta(days=15)
    )
    client.force_login(world.buyer)
    # when the buyer opens the request page
    response = client.get(f"/orders/{world.order.pk}/items/{world.line.pk}/refund/")
    # then it says why, without a form
    assert response.status_code == 403
    assert "The refund window closed on" in response.content.decode()
    assert 'name="reason"' not in response.content.decode()


def test_a_line_already_asked_for_sends_the_buyer_to_its_request(client, world):
    refund = _request(world)
    client.force_login(world.buyer)
    response = client.get(f"/orders/{world.order.pk}/items/{world.line.pk}/refund/")
    assert (response.status_code, response["Location"]) == (302, f"/refunds/{refund.pk}/")


def test_refund_requests_are_rate_limited_with_a_friendly_429(client, world, settings):
    # given a limit of 2 requests an hour
    settings.REFUND_REQUEST_RATE = "2/h"
    client.force_login(world.buyer)
    url = f"/orders/{world.order.pk}/items/{world.line.pk}/refund/"
    # when the buyer posts three times (two mistakes, then a good one)
    first = client.post(url, {"reason": ""})
    second = client.post(url, {"reason": ""})
    third = client.post(url, {"reason": "DAMAGED", "amount": ""})
    # then the third is refused with a message and Retry-After, and nothing is written
    assert (first.status_code, second.status_code, third.status_code) == (400, 400, 429)
    assert third["Retry-After"] == "3600"
    assert "You have asked for several refunds in a short time." in third.content.decode()
    assert RefundRequest.objects.count() == 0


def test_the_buyer_withdraws_before_a_decision_but_not_twice(client, world):
    # given a waiting request
    refund = _request(world)
    client.force_login(world.buyer)
    # when the buyer withdraws it, then tries again
    first = client.post(f"/refunds/{refund.pk}/cancel/")
    second = client.post(f"/refunds/{refund.pk}/cancel/")
    refund.refresh_from_db()
    # then it is canceled once; the second is a 400 with the reason
    assert (first.status_code, first["Location"]) == (302, f"/refunds/{refund.pk}/")
    assert refund.status == "CANCELED"
    assert second.status_code == 400
    assert "This refund is canceled; it cannot be canceled now." in second.content.decode()


# ------------------------------------------------------------------------------
# Seller flow
# ------------------------------------------------------------------------------
def test_the_seller_approves_part_of_a_request(client, world, django_capture_on_commit_callbacks):
    # given a request for $20
    refund = _request(world)
    client.force_login(world.seller)
    # when the seller approves $15.50 of it
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/seller/refunds/{refund.pk}/approve/",
            {"approve-amount": "15.50", "approve-note": "Sorry"},
        )
    refund.refresh_from_db()
    # then $15.50 goes back and the seller returns to the queue
    assert response["Location"] == "/seller/refunds/"
    assert (refund.status, refund.approved_amount_cents, refund.decision_note) == (
        "REFUNDED",
        1550,
        "Sorry",
    )
    assert _messages(response) == ["Refund of $15.50 approved; the buyer is told."]


def test_the_seller_cannot_approve_more_than_asked(client, world):
    refund = _request(world)
    client.force_login(world.seller)
    response = client.post(f"/seller/refunds/{refund.pk}/approve/", {"approve-amount": "20.01"})
    refund.refresh_from_db()
    assert response.status_code == 400
    assert "Approve an amount between 0.01 and 20.00." in response.content.decode()
    assert (refund.status, PaymentRefund.objects.count()) == ("REQUESTED", 0)


def test_declining_needs_a_note(client, world):
    # given a waiting request
    refund = _request(world)
    client.force_login(world.seller)
    # when the seller declines without, then with a reason
    bare = client.post(f"/seller/refunds/{refund.pk}/decline/", {"decline-note": " "})
    refund.refresh_from_db()
    status_after_bare = refund.status
    done = client.post(
        f"/seller/refunds/{refund.pk}/decline/", {"decline-note": "Used for a month"}
    )
    refund.refresh_from_db()
    # then
    assert (bare.status_code, status_after_bare) == (400, "REQUESTED")
    assert done.status_code == 302
    assert (refund.status, refund.decision_note) == ("DECLINED", "Used for a month")


def test_seller_queue_filters_by_status(client, world):
    # given one waiting request and one declined
    _request(world)
    declined = refund_request_create(
        item=world.file_line, requested_by=world.buyer, reason="OTHER", amount_cents=100
    )
    # (the file refunds at once: approved; not the seller's anyway)
    client.force_login(world.seller)
    # when the seller filters
    waiting = client.get("/seller/refunds/?status=REQUESTED").content.decode()
    refunded = client.get("/seller/refunds/?status=REFUNDED").content.decode()
    junk = client.get("/seller/refunds/?status=NOPE")
    # then
    assert "Painted Dragon" in waiting
    assert "Painted Dragon" not in refunded and "Spiral Vase" not in refunded
    assert junk.status_code == 400
    assert declined.order_item.seller == world.file_seller


def test_the_seller_refunds_a_line_they_cannot_make(
    client, world, django_capture_on_commit_callbacks
):
    client.force_login(world.seller)
    url = f"/seller/sales/{world.line.pk}/refund/"
    missing_note = client.post(url, {"amount": "", "note": ""})
    assert (missing_note.status_code, RefundRequest.objects.count()) == (400, 0)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"amount": "", "note": "Out of filament"})
    refund = RefundRequest.objects.get()
    assert response["Location"] == "/seller/sales/"
    assert (refund.initiated_by, refund.status, refund.approved_amount_cents) == (
        "SELLER",
        "REFUNDED",
        3500,
    )


# ------------------------------------------------------------------------------
# Staff flow
# ------------------------------------------------------------------------------
def test_staff_refund_needs_a_reason_and_approves_a_waiting_request(
    client, world, django_capture_on_commit_callbacks
):
    # given a waiting request for $20
    refund = _request(world)
    client.force_login(world.staff)
    url = f"/staff/refunds/items/{world.line.pk}/refund/"
    # when staff confirm without a reason, then with one
    page = client.get(url)
    bare = client.post(url, {"amount": "", "reason": "OTHER", "note": ""})
    refund.refresh_from_db()
    status_after_bare = refund.status
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {"amount": "", "reason": "OTHER", "note": "Seller unreachable"})
    refund.refresh_from_db()
    # then the page asks first; without a reason nothing happens; with one it is approved
    assert page.status_code == 200 and "Yes, refund" in page.content.decode()
    assert (bare.status_code, status_after_bare) == (400, "REQUESTED")
    assert done["Location"] == "/staff/refunds/"
    assert (refund.status, refund.approved_amount_cents, refund.decided_by) == (
        "REFUNDED",
        2000,
        world.staff,
    )


def test_staff_list_filters_by_status_and_age(client, world):
    # given a request asked 10 days ago
    refund = _request(world)
    RefundRequest.objects.filter(pk=refund.pk).update(
        created_at=timezone.now() - timedelta(days=10)
    )
    client.force_login(world.staff)
    # when staff filter
    old = client.get("/staff/refunds/?older_than_days=7").content.decode()
    older = client.get("/staff/refunds/?older_than_days=11").content.decode()
    declined = client.get("/staff/refunds/?status=DECLINED").content.decode()
    # then
    assert "Painted Dragon" in old
    assert "Painted Dragon" not in older
    assert "Painted Dragon" not in declined


def _failed_request(w) -> RefundRequest:
    """An approved request whose Stripe refund failed (its send never ran: no commit)."""
    refund = refund_request_approve(request=_request(w), actor=w.seller)
    PaymentRefund.objects.filter(pk=refund.payment_refund_id).update(
        status="FAILED", last_error="Your card was declined."
    )
    RefundRequest.objects.filter(pk=refund.pk).update(
        status="FAILED", last_error="Your card was declined."
    )
    return refund


def test_staff_retry_a_failed_refund(client, world, django_capture_on_commit_callbacks):
    # given a failed refund
    refund = _failed_request(world)
    client.force_login(world.staff)
    listing = client.get("/staff/refunds/?status=FAILED").content.decode()
    # when staff retry it
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/staff/refunds/{refund.pk}/retry/")
    refund.refresh_from_db()
    # then it is sent again and lands
    assert "Your card was declined." in listing and "Retry" in listing
    assert response["Location"] == "/staff/refunds/"
    assert (refund.status, refund.approved_amount_cents) == ("REFUNDED", 2000)


@pytest.mark.parametrize("role", ["buyer", "seller", "other_seller"])
def test_non_staff_cannot_retry(client, world, role):
    refund = _failed_request(world)
    as_role(client, world, role)
    response = client.post(f"/staff/refunds/{refund.pk}/retry/")
    refund.refresh_from_db()
    assert (response.status_code, refund.status) == (404, "FAILED")


def test_retrying_a_request_that_did_not_fail_is_a_400(client, world):
    refund = _request(world)
    client.force_login(world.staff)
    response = client.post(f"/staff/refunds/{refund.pk}/retry/")
    refund.refresh_from_db()
    assert (response.status_code, refund.status) == (400, "REQUESTED")
    assert "Only a failed refund can be sent again." in response.content.decode()


def test_admin_refund_action_asks_for_a_reason_on_a_confirmation_page(
    client, world, django_capture_on_commit_callbacks
):
    # given a waiting request and a superuser in the admin
    refund = _request(world)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = "/admin/refunds/refundrequest/"
    chosen = {"action": "refund_with_reason", "_selected_action": [refund.pk]}
    # when they choose the action, then confirm without a reason, then with one
    confirm = client.post(url, {**chosen, "index": 0})
    bare = client.post(url, {**chosen, "apply": "Yes, refund", "reason": ""})
    refund.refresh_from_db()
    status_after_bare = refund.status
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {**chosen, "apply": "Yes, refund", "reason": "Goodwill"})
    refund.refresh_from_db()
    # then the first answer is the confirmation page, nothing happens without a reason,
    # and the reason refunds it
    assert confirm.status_code == 200
    assert "Refund these lines?" in confirm.content.decode()
    assert (bare.status_code, status_after_bare) == (400, "REQUESTED")
    assert "A reason is required." in bare.content.decode()
    assert done.status_code == 302
    assert (refund.status, refund.decision_note) == ("REFUNDED", "Goodwill")


def test_admin_shows_refund_requests_read_only(client, world):
    refund = _request(world)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    listing = client.get("/admin/refunds/refundrequest/")
    detail = client.get(f"/admin/refunds/refundrequest/{refund.pk}/change/")
    assert listing.status_code == 200 and "Painted Dragon" in listing.content.decode()
    assert detail.status_code == 200
    assert 'name="status"' not in detail.content.decode()


# ------------------------------------------------------------------------------
# Status chips
# ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "status, badge",
    [
        ("REQUESTED", "badge--warning"),
        ("APPROVED", "badge--info"),
        ("DECLINED", "badge--neutral"),
        ("REFUNDED", "badge--success"),
        ("FAILED", "badge--danger"),
        ("CANCELED", "badge--neutral"),
    ],
)
def test_one_status_chip_per_status(status, badge):
    from django.template.loader import render_to_string

    html = render_to_string(
        "refunds/partials/refund_status.html", {"refund": RefundRequest(status=status)}
    )
    label = RefundRequest.Status(status).label
    assert html.strip() == (
        f'<span class="badge {badge}" data-refund-status="{status}">{label}</span>'
    )
