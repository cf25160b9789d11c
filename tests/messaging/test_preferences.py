"""A user turns optional emails off; transactional mail always goes, and the in-app
notification is created either way."""

import pytest
from django.core import mail
from django.urls import reverse

from marketplace.exceptions import ApplicationError
from messaging.email_kinds import EMAIL_KINDS, optional_email_kinds
from messaging.models import EmailLog, Notification, NotificationPreference
from messaging.services import email_send, notification_preferences_update
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REVIEW = "catalog/emails/review_request"
RECEIPT = "orders/emails/receipt"


def test_the_page_lists_optional_kinds_and_saves_what_is_turned_off(client):
    user = UserFactory()
    client.force_login(user)
    url = reverse("messaging:preferences")
    html = client.get(url).content.decode()
    for _, label in optional_email_kinds():
        assert label in html
    assert EMAIL_KINDS[RECEIPT].label not in html  # transactional: not a choice
    assert html.count("checked") == len(optional_email_kinds())  # all on by default
    # when: everything but review requests stays on
    enabled = [k for k, _ in optional_email_kinds() if k != REVIEW]
    response = client.post(url, {"enabled": enabled}, follow=True)
    # then
    assert "Your email preferences are saved." in response.content.decode()
    assert NotificationPreference.objects.get(user=user).muted_kinds == [REVIEW]
    assert response.content.decode().count("checked") == len(optional_email_kinds()) - 1


def test_the_page_refuses_a_kind_that_is_not_optional(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("messaging:preferences"), {"enabled": [RECEIPT]})
    assert response.status_code == 400
    assert not NotificationPreference.objects.exists()
    assert client.get(reverse("messaging:preferences"), follow=False).status_code == 200
    client.logout()
    assert client.get(reverse("messaging:preferences")).status_code == 302


def test_an_optional_email_turned_off_is_skipped_but_notified(
    django_capture_on_commit_callbacks,
):
    user = UserFactory()
    notification_preferences_update(user=user, muted_kinds=[REVIEW])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        log = email_send(
            key="review-1",
            to=user.email,
            template=REVIEW,
            context={"order": {"pk": 7}, "lines": [], "notification_url": "/orders/7/"},
        )
    assert log.status == "SKIPPED" and log.attempts == 0
    assert callbacks == [] and mail.outbox == []
    note = Notification.objects.get(user=user)
    assert note.kind == REVIEW and note.url == "/orders/7/"


def test_transactional_mail_always_goes(django_capture_on_commit_callbacks):
    user = UserFactory()
    with pytest.raises(ApplicationError):
        notification_preferences_update(user=user, muted_kinds=[RECEIPT])
    # even a preference row that somehow lists it
    disconnected = "payments/emails/account_disconnected"
    NotificationPreference.objects.create(user=user, muted_kinds=[disconnected, REVIEW])
    with django_capture_on_commit_callbacks(execute=True):
        log = email_send(
            key="disconnected-1",
            to=user.email,
            template=disconnected,
            context={"account": {"stripe_account_id": "acct_9"}, "seller": user},
        )
    log.refresh_from_db()
    assert log.status == "SENT" and [m.to for m in mail.outbox] == [[user.email]]
    assert EmailLog.objects.count() == 1


def test_another_user_keeps_every_optional_email(django_capture_on_commit_callbacks):
    notification_preferences_update(user=UserFactory(), muted_kinds=[REVIEW])
    other = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        log = email_send(
            key="review-2", to=other.email, template=REVIEW, context={"order": {"pk": 1}}
        )
    log.refresh_from_db()
    assert log.status == "SENT"
