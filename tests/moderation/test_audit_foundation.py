"""The staff audit trail and statements of reasons: one writer, reachable from any layer."""

import pytest
from django.urls import reverse

from catalog.models import Product
from catalog.selectors import product_queryset_public
from marketplace import audit
from messaging.models import Notification
from moderation.models import Report, StaffActionLog
from tests.catalog.factories import ProductFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_staff_action_writes_one_row_and_sends_the_statement(client):
    staff = UserFactory(is_staff=True)
    author = UserFactory()
    entry = audit.staff_action(
        actor=staff,
        action="user.suspend",
        target=author,
        reason="Spam in three threads",
        before={"is_suspended": False},
        after={"is_suspended": True},
        subject_user=author,
        statement="Your account was suspended",
        appealable=True,
    )
    assert StaffActionLog.objects.count() == 1
    assert (entry.actor, entry.target_type, entry.target_id) == (
        staff,
        "marketplace.user",
        str(author.pk),
    )
    note = Notification.objects.get(user=author)
    assert note.staff_action_id == entry.pk and "Spam in three threads" in note.body

    client.force_login(author)
    url = reverse("moderation:statement", args=[entry.pk])
    page = client.get(url)
    assert page.status_code == 200 and b"Spam in three threads" in page.content
    assert client.post(url, {"text": "It was not spam"}).status_code == 302
    appeal = Report.objects.get(kind=Report.Kind.APPEAL)
    assert (appeal.target_id, appeal.subject_user) == (entry.pk, author)
    # Once only.
    again = client.post(url, {"text": "Really not"})
    assert again.status_code == 400 and Report.objects.filter(kind="APPEAL").count() == 1


def test_a_statement_is_private_to_its_subject(client):
    author = UserFactory()
    entry = audit.staff_action(
        actor=UserFactory(is_staff=True), action="x", target=author, reason="r", subject_user=author
    )
    client.force_login(UserFactory())
    assert client.get(reverse("moderation:statement", args=[entry.pk])).status_code == 404


def test_a_staff_action_needs_a_reason():
    with pytest.raises(ValueError):
        audit.staff_action(actor=None, action="x", target=None, reason="  ")
    assert StaffActionLog.objects.count() == 0


def test_a_suspended_sellers_listings_are_not_public():
    product = ProductFactory(status=Product.Status.PUBLISHED)
    assert product in product_queryset_public()
    product.seller.is_suspended = True
    product.seller.save(update_fields=["is_suspended"])
    assert product not in product_queryset_public()
