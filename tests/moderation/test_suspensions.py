"""Suspensions: the services, what a suspended user may and may not do, their listings
leaving every public page (and coming back), buyers keeping their files, expiry."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from catalog.favorites import favorite_toggle
from marketplace.exceptions import ApplicationError
from messaging.models import Notification
from moderation.models import StaffActionLog, Suspension
from moderation.suspensions import suspensions_lift_expired, user_suspend, user_unsuspend
from tests.factories import UserFactory
from tests.moderation.helpers import buyer_of, public_product, review_of
from tests.orders.factories import paid_order

pytestmark = pytest.mark.django_db

TITLE = "Zyzzyva Spiral Vase"


def _staff():
    return UserFactory(is_staff=True)


# --- the services -------------------------------------------------------------------
def test_suspend_and_unsuspend_keep_the_flag_audit_and_tell_the_user(
    django_capture_on_commit_callbacks,
):
    user, staff = UserFactory(), _staff()
    with django_capture_on_commit_callbacks(execute=True):
        suspension = user_suspend(user=user, staff=staff, reason="Fraudulent listings")
    user.refresh_from_db()
    assert user.is_suspended is True and suspension.created_by == staff
    entry = StaffActionLog.objects.get(action="user.suspend")
    assert (entry.actor, entry.subject_user, entry.appealable) == (staff, user, True)
    assert Notification.objects.get(user=user).staff_action_id == entry.pk
    assert len(mail.outbox) == 1 and "Fraudulent listings" in mail.outbox[0].body
    # one active suspension per user
    with pytest.raises(ApplicationError, match="already suspended"):
        user_suspend(user=user, staff=staff, reason="Again")
    assert Suspension.objects.count() == 1
    # lifting
    user_unsuspend(user=user, staff=staff, reason="Appeal accepted")
    user.refresh_from_db()
    suspension.refresh_from_db()
    assert user.is_suspended is False
    assert (suspension.lifted_by, suspension.lift_reason) == (staff, "Appeal accepted")
    assert StaffActionLog.objects.filter(action="user.unsuspend", subject_user=user).count() == 1
    with pytest.raises(ApplicationError, match="not suspended"):
        user_unsuspend(user=user, staff=staff, reason="Twice")


def test_suspension_refuses_no_reason_past_end_staff_and_oneself():
    staff = _staff()
    user = UserFactory()
    with pytest.raises(ApplicationError, match="reason"):
        user_suspend(user=user, staff=staff, reason="  ")
    with pytest.raises(ApplicationError, match="future"):
        user_suspend(user=user, staff=staff, reason="x", ends_at=timezone.now())
    with pytest.raises(ApplicationError, match="Staff accounts"):
        user_suspend(user=_staff(), staff=staff, reason="x")
    with pytest.raises(ApplicationError, match="yourself"):
        user_suspend(user=staff, staff=staff, reason="x")
    assert Suspension.objects.count() == 0 and StaffActionLog.objects.count() == 0


def test_an_expired_suspension_lifts_itself_and_tells_the_user(capsys):
    # given
    staff = _staff()
    due, later = UserFactory(), UserFactory()
    user_suspend(user=due, staff=staff, reason="Cool off", ends_at=timezone.now() + timedelta(1))
    user_suspend(user=later, staff=staff, reason="Long", ends_at=timezone.now() + timedelta(9))
    Suspension.objects.filter(user=due).update(ends_at=timezone.now() - timedelta(minutes=1))
    # when
    call_command("lift_expired_suspensions")
    # then
    assert "1 suspension lifted." in capsys.readouterr().out
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.is_suspended, later.is_suspended) == (False, True)
    lifted = Suspension.objects.get(user=due)
    assert lifted.lifted_at is not None and lifted.lifted_by is None
    entry = StaffActionLog.objects.get(action="user.suspension_expired")
    assert entry.actor is None and entry.subject_user == due
    assert Notification.objects.filter(user=due, staff_action_id=entry.pk).exists()
    assert suspensions_lift_expired() == 0  # safe to run twice


# --- what a suspended user may do ------------------------------------------------------
def test_a_suspended_seller_cannot_sell_post_review_or_report_but_can_read(client):
    # given
    product = public_product(title=TITLE)
    seller = product.seller
    other = public_product()
    reviewable = buyer_of(other)
    user_suspend(user=seller, staff=_staff(), reason="Counterfeits")
    user_suspend(user=reviewable, staff=_staff(), reason="Abuse")
    client.force_login(seller)
    # when / then: every posting view answers the suspended page
    blocked = [
        ("get", reverse("catalog:seller-listing-create")),
        ("post", reverse("catalog:seller-listing-create")),
        ("get", reverse("catalog:seller-listing-update", args=[product.pk])),
        ("post", reverse("catalog:seller-listing-publish", args=[product.pk])),
        ("post", reverse("catalog:seller-listing-archive", args=[product.pk])),
        ("get", reverse("catalog:seller-shipping-create")),
        ("get", reverse("marketplace:seller-profile-update")),
        ("get", reverse("moderation:report", args=["listing", other.pk])),
    ]
    for method, url in blocked:
        response = getattr(client, method)(url)
        assert response.status_code == 403, url
        page = response.content.decode()
        assert "Your account is suspended" in page, url
    statement = StaffActionLog.objects.get(action="user.suspend", subject_user=seller)
    assert reverse("moderation:statement", args=[statement.pk]) in page
    # reading still works
    assert client.get(reverse("catalog:seller-listing-list")).status_code == 200
    assert client.get(other.get_absolute_url()).status_code == 200
    assert client.get(product.get_absolute_url()).status_code == 200  # their own
    # a suspended buyer cannot review, but keeps their orders
    client.force_login(reviewable)
    url = reverse("social:review-edit", args=[other.pk])
    response = client.post(url, {"rating": 5, "body": "Great planter, works well."})
    assert response.status_code == 403
    assert other.reviews.count() == 0
    assert client.get(reverse("orders:order-list")).status_code == 200


def test_a_suspended_seller_cannot_reply_to_reviews(client):
    product = public_product()
    review = review_of(product)
    user_suspend(user=product.seller, staff=_staff(), reason="x")
    client.force_login(product.seller)
    response = client.post(reverse("social:review-reply", args=[review.pk]), {"body": "No"})
    assert response.status_code == 403


# --- their listings leave every public page ---------------------------------------------
def _public_pages(product) -> dict[str, str]:
    profile = product.seller.seller_profile
    return {
        "home": reverse("catalog:home"),
        "browse": reverse("catalog:browse"),
        "top rated": reverse("catalog:browse") + "?sort=top",
        "trending": reverse("catalog:browse") + "?sort=trending",
        "search": reverse("catalog:search") + "?q=Zyzzyva",
        "category": product.category.get_absolute_url(),
        "shop": profile.get_absolute_url(),
        "sitemap": "/sitemap.xml",
        "autocomplete": reverse("catalog:search-suggest") + "?q=Zyzz",
    }


def _shows(client, url, product) -> bool:
    response = client.get(url)
    if response.status_code == 404:
        return False
    assert response.status_code == 200, url
    body = response.content.decode()
    return TITLE in body or product.get_absolute_url() in body


def test_a_suspended_sellers_listings_leave_every_public_page_and_come_back(client):
    # given: a rated, trending listing that shows everywhere
    product = public_product(title=TITLE)
    type(product).objects.filter(pk=product.pk).update(
        trending_score=50, rating_count=5, rating_sum=25
    )
    fan = UserFactory()
    favorite_toggle(user=fan, product=product)
    pages = _public_pages(product)
    for name, url in pages.items():
        assert _shows(client, url, product), f"{name} should list it before"
    staff = _staff()
    # when
    user_suspend(user=product.seller, staff=staff, reason="Counterfeits")
    # then: gone for the public, a 404 for the product and the shop
    for name, url in pages.items():
        assert not _shows(client, url, product), f"{name} still lists it"
    assert client.get(product.get_absolute_url()).status_code == 404
    assert client.get(pages["shop"]).status_code == 404
    client.force_login(fan)
    assert TITLE not in client.get(reverse("social:saved")).content.decode()
    # the seller and staff still see the listing
    client.force_login(product.seller)
    assert client.get(product.get_absolute_url()).status_code == 200
    client.force_login(staff)
    assert client.get(product.get_absolute_url()).status_code == 200
    client.logout()
    # when lifted, everything comes back
    user_unsuspend(user=product.seller, staff=staff, reason="Cleared")
    for name, url in pages.items():
        assert _shows(client, url, product), f"{name} should list it again"
    assert client.get(product.get_absolute_url()).status_code == 200


def test_buyers_of_a_suspended_seller_keep_their_downloads(client):
    product = public_product()
    buyer = UserFactory()
    paid_order(product, buyer=buyer, email=buyer.email)
    user_suspend(user=product.seller, staff=_staff(), reason="Counterfeits")
    client.force_login(buyer)
    asset = product.assets.get()
    url = reverse("downloads:asset", kwargs={"product_pk": product.pk, "asset_pk": asset.pk})
    response = client.get(url)
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200


# --- the staff page and the admin ---------------------------------------------------------
def test_staff_lift_a_suspension_from_the_suspensions_page(client):
    user = UserFactory(email="banned@example.com")
    suspension = user_suspend(user=user, staff=_staff(), reason="Spam")
    client.force_login(_staff())
    page = client.get("/staff/suspensions/").content.decode()
    assert "banned@example.com" in page
    url = reverse("moderation:staff-suspension-lift", args=[suspension.pk])
    assert client.post(url, {"reason": ""}).status_code == 302
    user.refresh_from_db()
    assert user.is_suspended is True  # no reason, nothing done
    client.post(url, {"reason": "Talked to them"})
    user.refresh_from_db()
    assert user.is_suspended is False
    assert "banned@example.com" in client.get("/staff/suspensions/?state=ended").content.decode()
    assert client.post(url, {"reason": "Again"}).status_code == 404


def test_the_admin_suspends_and_unsuspends_through_the_services(client):
    user = UserFactory()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    changelist = "/admin/marketplace/user/"
    ask = client.post(changelist, {"action": "suspend", "_selected_action": [user.pk]})
    assert ask.status_code == 200 and b"Reason" in ask.content
    client.post(
        changelist,
        {"action": "suspend", "_selected_action": [user.pk], "apply": "1", "reason": "Spam"},
    )
    user.refresh_from_db()
    assert user.is_suspended is True
    assert Suspension.objects.get(user=user).reason == "Spam"
    client.post(
        changelist,
        {"action": "unsuspend", "_selected_action": [user.pk], "apply": "1", "reason": "OK"},
    )
    user.refresh_from_db()
    assert user.is_suspended is False
    assert list(
        StaffActionLog.objects.filter(subject_user=user).values_list("action", flat=True)
    ) == ["user.unsuspend", "user.suspend"]


def test_a_lifted_suspension_shows_the_listings_at_once_despite_a_cached_zero(
    client, django_capture_on_commit_callbacks
):
    # given a seller's only listing, suspended while someone searched for it
    product = public_product(title=TITLE)
    staff = _staff()
    with django_capture_on_commit_callbacks(execute=True):
        user_suspend(user=product.seller, staff=staff, reason="Spam")
    for path in ("/search/?q=zyzzyva", "/browse/"):
        assert TITLE not in client.get(path).content.decode()  # a total of 0, cached
    # when staff lift the suspension
    with django_capture_on_commit_callbacks(execute=True):
        user_unsuspend(user=product.seller, staff=staff, reason="Appeal accepted")
    # then search and browse show the listing now, not a minute later
    for path in ("/search/?q=zyzzyva", "/browse/"):
        assert TITLE in client.get(path).content.decode()
