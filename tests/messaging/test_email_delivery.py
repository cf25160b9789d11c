"""Email through Celery: recorded with the event, sent after commit, retried with
backoff, FAILED after the last try without harming anything else, sent later by the
sweep, and never sent twice."""

from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from messaging.models import EmailLog, Notification
from messaging.services import (
    EMAIL_MAX_ATTEMPTS,
    email_deliver,
    email_send,
    emails_retry_failed,
)
from messaging.tasks import email_deliver_task
from payments.models import SellerBalanceEntry
from tests.factories import UserFactory
from tests.payments.test_money_core import _checkout, _live, _pay

pytestmark = pytest.mark.django_db

TEMPLATE = "payments/emails/account_disconnected"


def _send(user, capture, *, key="k-1"):
    account = mock.Mock(stripe_account_id="acct_123")
    with capture(execute=True):
        return email_send(
            key=key,
            to=user.email,
            template=TEMPLATE,
            context={"account": account, "seller": user, "notification_url": "/seller/payouts/"},
        )


def test_an_email_is_recorded_pending_and_sent_only_after_the_callers_commit(
    django_capture_on_commit_callbacks,
):
    # given
    user = UserFactory()
    # when: the caller's transaction is still open
    with django_capture_on_commit_callbacks() as callbacks:
        log = email_send(
            key="k-1",
            to=user.email,
            template=TEMPLATE,
            context={"account": mock.Mock(stripe_account_id="acct_1"), "seller": user},
        )
        # then: recorded with its rendered bodies and notification, nothing sent yet
        assert log.status == "PENDING" and "acct_1" in log.text_body and "<html" in log.html_body
        assert mail.outbox == []
        assert Notification.objects.filter(user=user, kind=TEMPLATE).count() == 1
    assert len(callbacks) == 1
    for callback in callbacks:  # the commit happens
        callback()
    log.refresh_from_db()
    assert log.status == "SENT" and log.attempts == 1 and log.sent_at is not None
    assert [m.to for m in mail.outbox] == [[user.email]]


def test_a_rolled_back_event_records_and_sends_nothing(django_capture_on_commit_callbacks):
    user = UserFactory()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        email_send(
            key="k-rollback",
            to=user.email,
            template=TEMPLATE,
            context={"account": mock.Mock(stripe_account_id="a"), "seller": user},
        )
        raise RuntimeError("the event failed")
    assert callbacks == []
    assert not EmailLog.objects.exists() and not Notification.objects.exists()
    assert mail.outbox == []


def test_a_failing_mail_server_is_retried_with_backoff_then_the_row_is_failed(
    refuse, django_capture_on_commit_callbacks
):
    # given
    user = UserFactory()
    refuse.add(user.email)
    countdowns = []
    original = email_deliver_task.apply_async

    def record(*args, **kwargs):
        countdowns.append(kwargs.get("countdown"))
        return original(*args, **kwargs)

    # when: eager mode runs every scheduled retry at once
    with mock.patch.object(email_deliver_task, "apply_async", side_effect=record):
        log = _send(user, django_capture_on_commit_callbacks)
    # then: 1, 2, 4, 8, 16 minutes between the six tries, then FAILED with the error
    assert [round(c) if c is not None else None for c in countdowns] == [
        None,
        60,
        120,
        240,
        480,
        960,
    ]
    log.refresh_from_db()
    assert log.status == "FAILED" and log.attempts == EMAIL_MAX_ATTEMPTS == 6
    assert log.last_error == f"OSError: Connection refused for {user.email}"
    assert log.next_attempt_at is None and mail.outbox == []
    # the notification was not lost with the email
    assert Notification.objects.filter(user=user, kind=TEMPLATE, url="/seller/payouts/").exists()


def test_one_failed_try_leaves_the_row_pending_with_its_next_try_due_after_the_backoff(refuse):
    user = UserFactory()
    refuse.add(user.email)
    log = EmailLog.objects.create(
        key="k", to=user.email, subject="Hi", template=TEMPLATE, text_body="Hello"
    )
    before = timezone.now()
    log = email_deliver(log_id=log.pk)
    assert log.status == "PENDING" and log.attempts == 1
    assert log.last_error.startswith("OSError: Connection refused")
    assert timedelta(seconds=59) < log.next_attempt_at - before <= timedelta(seconds=61)
    log = email_deliver(log_id=log.pk)
    assert log.attempts == 2
    assert timedelta(seconds=119) < log.next_attempt_at - before <= timedelta(seconds=121)


def test_a_sent_email_is_not_sent_again_when_its_task_runs_twice(
    django_capture_on_commit_callbacks,
):
    user = UserFactory()
    log = _send(user, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    # when: a duplicate delivery (redelivered message) and a second call with the key
    email_deliver_task.delay(log.pk)
    email_deliver_task.delay(log.pk)
    again = _send(user, django_capture_on_commit_callbacks)
    # then
    log.refresh_from_db()
    assert again.pk == log.pk and log.status == "SENT" and log.attempts == 1
    assert len(mail.outbox) == 1
    assert EmailLog.objects.count() == 1
    assert Notification.objects.filter(user=user).count() == 1


def test_a_lost_queue_message_leaves_the_row_pending_for_the_sweep(
    django_capture_on_commit_callbacks,
):
    # given: the broker is down when the caller commits
    user = UserFactory()
    with mock.patch.object(email_deliver_task, "delay", side_effect=OSError("broker down")):
        log = _send(user, django_capture_on_commit_callbacks)  # does not raise
    log.refresh_from_db()
    assert log.status == "PENDING" and mail.outbox == []
    # a fresh row is not stale yet
    with django_capture_on_commit_callbacks(execute=True):
        assert emails_retry_failed().stale == 0
    # when: its try was due long ago
    EmailLog.objects.filter(pk=log.pk).update(next_attempt_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        counts = emails_retry_failed()
    # then
    assert (counts.failed, counts.stale) == (0, 1)
    log.refresh_from_db()
    assert log.status == "SENT" and [m.to for m in mail.outbox] == [[user.email]]


def test_retry_failed_emails_sends_failed_and_stale_rows_and_prints_counts(
    refuse, django_capture_on_commit_callbacks
):
    # given: one FAILED row, one stale PENDING row, one old FAILED row left to staff
    user = UserFactory()
    refuse.add(user.email)
    failed = _send(user, django_capture_on_commit_callbacks, key="failed")
    refuse.clear()
    stale = EmailLog.objects.create(
        key="stale",
        to="guest@example.com",
        subject="Hi",
        template=TEMPLATE,
        text_body="Hello",
        next_attempt_at=timezone.now() - timedelta(hours=2),
    )
    old = EmailLog.objects.create(
        key="old",
        to="old@example.com",
        subject="Hi",
        template=TEMPLATE,
        text_body="Hello",
        status="FAILED",
    )
    EmailLog.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    # when
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("retry_failed_emails", stdout=out)
    # then
    assert out.getvalue().strip() == "Re-queued 1 failed and 1 stale pending emails."
    failed.refresh_from_db()
    stale.refresh_from_db()
    old.refresh_from_db()
    assert failed.status == "SENT" and failed.attempts == 1
    assert stale.status == "SENT"
    assert old.status == "FAILED"
    assert sorted(m.to[0] for m in mail.outbox) == sorted([user.email, "guest@example.com"])
    # running it again finds nothing to do
    out = StringIO()
    call_command("retry_failed_emails", stdout=out)
    assert out.getvalue().strip() == "Re-queued 0 failed and 0 stale pending emails."


def test_a_template_that_cannot_render_is_recorded_failed_without_breaking_the_caller(
    django_capture_on_commit_callbacks,
):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        log = email_send(key="broken", to=user.email, template="nowhere/emails/x", context={})
    assert log.status == "FAILED" and log.last_error.startswith("Could not render")
    assert mail.outbox == []
    assert Notification.objects.filter(user=user, kind="nowhere/emails/x").exists()
    # the sweep leaves it alone: there is nothing to send
    assert emails_retry_failed().failed == 0


def test_a_failing_receipt_does_not_stop_the_sale_emails_the_ledger_or_the_follow_ups(
    refuse, django_capture_on_commit_callbacks
):
    # given: the mail server refuses the buyer's address
    refuse.add("buyer@example.com")
    first, second = _live(price_cents=1500), _live(price_cents=700)
    # when: the order is paid and its follow-ups run
    order = _pay(_checkout(first, second), django_capture_on_commit_callbacks)
    # then: the receipt is FAILED with its error ...
    receipt = EmailLog.objects.get(key=f"receipt-order-{order.pk}")
    assert receipt.status == "FAILED" and receipt.attempts == 6
    assert receipt.last_error == "OSError: Connection refused for buyer@example.com"
    # ... and everything else of the same event happened
    assert sorted(m.to[0] for m in mail.outbox) == sorted([first.seller.email, second.seller.email])
    assert set(
        EmailLog.objects.filter(template="orders/emails/new_sale").values_list("status", flat=True)
    ) == {"SENT"}
    assert SellerBalanceEntry.objects.filter(order=order, reason="SALE").count() == 2
    order.refresh_from_db()
    assert order.followups_done_at is not None
    # when: the mail server is back and the sweep runs
    refuse.clear()
    mail.outbox.clear()
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("retry_failed_emails", stdout=out)
    # then: the receipt (and the review request, refused the same way) go, once
    assert "Re-queued 2 failed" in out.getvalue()
    receipt.refresh_from_db()
    assert receipt.status == "SENT"
    assert [m.to for m in mail.outbox] == [["buyer@example.com"]] * 2
    [sent] = [m for m in mail.outbox if m.subject == receipt.subject]
    assert f"Order #{order.pk} is paid" in sent.alternatives[0][0]
    call_command("retry_failed_emails", stdout=out)
    assert len(mail.outbox) == 2
