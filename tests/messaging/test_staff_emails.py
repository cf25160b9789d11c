"""Staff see every email with its status and error, and retry a failed one with a
reason that lands in the audit log. Everyone else gets a 404."""

import pytest
from django.contrib.admin.sites import site
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse

from messaging.models import EmailLog
from messaging.selectors import email_failed_count
from moderation.models import StaffActionLog
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _log(key, status, **kwargs):
    return EmailLog.objects.create(
        key=key,
        to=f"{key}@example.com",
        subject=f"Subject {key}",
        template="orders/emails/receipt",
        text_body="Hello",
        html_body="<p>Hello</p>",
        status=status,
        **kwargs,
    )


@pytest.fixture
def staff():
    return UserFactory(is_staff=True)


@pytest.fixture
def emails():
    return {
        "failed": _log("failed", "FAILED", attempts=6, last_error="OSError: refused"),
        "pending": _log("pending", "PENDING"),
        "sent": _log("sent", "SENT", attempts=1),
    }


def test_non_staff_get_a_404_and_anonymous_visitors_are_sent_to_log_in(client, emails):
    url = reverse("messaging:staff-emails")
    assert client.get(url).status_code == 302
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    retry = reverse("messaging:staff-email-retry", args=[emails["failed"].pk])
    assert client.post(retry, {"reason": "x"}).status_code == 404
    emails["failed"].refresh_from_db()
    assert emails["failed"].status == "FAILED"


def test_staff_filter_by_status_and_see_the_error(client, staff, emails):
    client.force_login(staff)
    html = client.get(reverse("messaging:staff-emails")).content.decode()
    assert all(f"Subject {k}" in html for k in emails)
    failed = client.get(reverse("messaging:staff-emails"), {"status": "FAILED"}).content.decode()
    assert "Subject failed" in failed and "OSError: refused" in failed
    assert "Subject sent" not in failed and "Subject pending" not in failed
    assert failed.count('name="reason"') == 1
    pending = client.get(reverse("messaging:staff-emails"), {"status": "PENDING"})
    assert "Subject pending" in pending.content.decode()
    assert "Subject failed" not in pending.content.decode()
    bad = client.get(reverse("messaging:staff-emails"), {"status": "NOPE"})
    assert bad.status_code == 400


def test_retry_needs_a_reason_then_sends_and_is_audited(
    client, staff, emails, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    failed = emails["failed"]
    url = reverse("messaging:staff-email-retry", args=[failed.pk])
    # without a reason: refused, nothing changes
    assert client.get(url).status_code == 405
    response = client.post(url, {"reason": "  "})
    assert response.status_code == 400
    assert "Give a short reason" in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == "FAILED" and not StaffActionLog.objects.exists()
    # with a reason
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": "SMTP credentials fixed"})
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == "SENT" and failed.attempts == 1
    assert [m.to for m in mail.outbox] == [["failed@example.com"]]
    [entry] = StaffActionLog.objects.all()
    assert entry.action == "messaging.email.retry" and entry.actor == staff
    assert entry.reason == "SMTP credentials fixed"
    assert entry.target_id == str(failed.pk) and entry.before["status"] == "FAILED"


def test_only_a_failed_email_can_be_retried(client, staff, emails):
    client.force_login(staff)
    response = client.post(
        reverse("messaging:staff-email-retry", args=[emails["sent"].pk]), {"reason": "again"}
    )
    assert response.status_code == 400
    assert "only a failed email can be retried" in response.content.decode()
    assert len(mail.outbox) == 0 and not StaffActionLog.objects.exists()
    missing = client.post(reverse("messaging:staff-email-retry", args=[999999]), {"reason": "x"})
    assert missing.status_code == 404


def test_the_failed_count_for_admin_ops(emails):
    assert email_failed_count() == 1
    _log("failed-2", "FAILED")
    assert email_failed_count() == 2


def test_the_admin_log_is_read_only_with_a_retry_action(
    staff, emails, django_capture_on_commit_callbacks
):
    admin = site._registry[EmailLog]
    request = RequestFactory().post("/")
    request.user = staff
    assert not admin.has_change_permission(request) and not admin.has_add_permission(request)
    assert not admin.has_delete_permission(request)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.MonkeyPatch.context() as mp,
    ):
        mp.setattr(admin, "message_user", lambda *a, **k: None)
        admin.retry_failed(request, EmailLog.objects.all())
    emails["failed"].refresh_from_db()
    emails["sent"].refresh_from_db()
    assert emails["failed"].status == "SENT" and emails["sent"].attempts == 1
    assert StaffActionLog.objects.get().action == "messaging.email.retry"
