"""The bell, the notification list, opening and marking read: each user sees only
their own notifications."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from messaging.models import Notification
from messaging.notifications import notify
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _notify(user, n=1, **kwargs):
    return [
        notify(user=user, kind="orders/emails/receipt", title=f"Note {i}", **kwargs)
        for i in range(n)
    ]


def _notification_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if "messaging_notification" in q["sql"]]


def test_the_bell_shows_the_unread_count_with_one_query(client):
    # given
    user = UserFactory()
    other = UserFactory()
    _notify(user, 3)
    _notify(other, 5)
    Notification.objects.filter(user=user, title="Note 0").update(read_at="2026-12-01T10:00Z")
    client.force_login(user)
    # when
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("catalog:home"))
    # then
    html = response.content.decode()
    assert 'aria-label="Notifications, 2 unread"' in html
    assert '<span class="count-badge" aria-hidden="true">2</span>' in html
    assert len(_notification_queries(ctx.captured_queries)) == 1


def test_an_anonymous_visitor_has_no_bell_and_no_notification_query(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("catalog:home"))
    assert response.status_code == 200
    assert "Notifications," not in response.content.decode()
    assert _notification_queries(ctx.captured_queries) == []


def test_the_list_is_newest_first_paginated_and_highlights_unread(client):
    user = UserFactory()
    _notify(user, 25)
    Notification.objects.filter(user=user, title="Note 24").update(read_at="2026-12-01T10:00Z")
    _notify(UserFactory(), 1)  # someone else's
    client.force_login(user)
    response = client.get(reverse("messaging:notification-list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('<li class="notification') == 20
    assert html.index("Note 24") < html.index("Note 23")  # newest first
    assert html.count("notification--unread") == 19
    page2 = client.get(reverse("messaging:notification-list"), {"page": 2}).content.decode()
    assert "Note 0" in page2 and "Note 24" not in page2
    assert client.get(reverse("messaging:notification-list"), {"page": "x"}).status_code == 200


def test_the_list_needs_a_signed_in_user(client):
    response = client.get(reverse("messaging:notification-list"))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_opening_a_notification_marks_it_read_and_follows_its_link(client):
    user = UserFactory()
    [note] = _notify(user, url="/orders/12/")
    client.force_login(user)
    url = reverse("messaging:notification-open", args=[note.pk])
    assert client.get(url).status_code == 405  # a mutation is POST-only
    note.refresh_from_db()
    assert note.read_at is None
    response = client.post(url)
    assert response.status_code == 302 and response.url == "/orders/12/"
    note.refresh_from_db()
    assert note.read_at is not None


def test_a_notification_link_off_the_site_is_not_followed(client):
    user = UserFactory()
    [note] = _notify(user, url="//evil.example/phish")
    client.force_login(user)
    response = client.post(reverse("messaging:notification-open", args=[note.pk]))
    assert response.url == reverse("messaging:notification-list")


def test_another_users_notification_is_a_404_and_stays_unread(client):
    owner = UserFactory()
    [note] = _notify(owner, url="/orders/1/")
    client.force_login(UserFactory())
    response = client.post(reverse("messaging:notification-open", args=[note.pk]))
    assert response.status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_mark_all_read_marks_only_the_users_own(client):
    user = UserFactory()
    other = UserFactory()
    _notify(user, 3)
    _notify(other, 2)
    client.force_login(user)
    assert client.get(reverse("messaging:notification-read-all")).status_code == 405
    response = client.post(reverse("messaging:notification-read-all"), follow=True)
    assert "Marked 3 notifications read." in response.content.decode()
    assert not Notification.objects.filter(user=user, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=other, read_at__isnull=True).count() == 2
    assert 'aria-label="Notifications, 0 unread"' in response.content.decode()
