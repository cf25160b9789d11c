"""Email that is never silently lost, and the notification that goes with it.

`email_send` renders a message and records it (EmailLog, PENDING) with the recipient's
in-app notification inside the caller's transaction, then queues `email_deliver_task`
once that transaction commits. Sending happens in the task: a failing mail server never
raises into the caller, so the other effects of the same event (the sellers' emails,
ledger rows, follow-ups) still happen. The task retries with backoff
(`EMAIL_RETRY_DELAYS`); after `EMAIL_MAX_ATTEMPTS` tries the row is FAILED with its
error, for `retry_failed_emails` (beat) or staff to send again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from marketplace.audit import staff_action
from marketplace.exceptions import ApplicationError
from messaging.email_kinds import EMAIL_KINDS, email_kind_is_optional
from messaging.models import EmailLog, Notification, NotificationPreference
from messaging.notifications import notify

logger = logging.getLogger(__name__)

# Seconds to wait after the 1st, 2nd, … failed try; the 6th failure is final.
EMAIL_RETRY_DELAYS = (60, 120, 240, 480, 960)
EMAIL_MAX_ATTEMPTS = len(EMAIL_RETRY_DELAYS) + 1
# Bodies of these templates carry one-time links; they are blanked once sent.
SCRUBBED_AFTER_SENDING = ("account/email/",)


def email_retry_delay(*, attempts: int) -> int | None:
    """Seconds before the next try after `attempts` failed ones; None: that was the last."""
    if attempts >= EMAIL_MAX_ATTEMPTS:
        return None
    return EMAIL_RETRY_DELAYS[max(attempts, 1) - 1]


# ------------------------------------------------------------------------------
# Recording and queueing
# ------------------------------------------------------------------------------
def email_send(*, key: str, to: str, template: str, context: dict) -> EmailLog:
    """Render `<template>_subject.txt`, `_body.txt` and `_body.html`, record the message
    and queue it for delivery after the caller's transaction commits.

    Guarantees: idempotent by `key` (a second call returns the first row and sends
    nothing); never raises because of the mail server (delivery is the task's job, see
    `email_deliver`); a template that fails to render is logged and recorded FAILED
    with its error instead of breaking the caller.

    Every email to a registered user also creates their in-app notification (once per
    key): kind = `template`, title = the subject, link = `context["notification_url"]`
    (a path) when given. Guests (no account for `to`) get the email only. A caller that
    already created the notification itself (a statement of reasons, in the decision's
    transaction) passes `context["in_app_notification_sent"] = True`. An optional
    kind (`messaging.email_kinds`) the user turned off is recorded SKIPPED, not sent;
    the notification is still created.
    """
    existing = EmailLog.objects.filter(key=key).first()
    if existing is not None:  # sent or queued already: nothing to render
        return existing
    user = context.get("notification_user") or email_recipient_user(to)
    context = {
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        # The shell's footer links a registered recipient to notifications/preferences.
        "email_recipient": user,
        **context,
    }
    error = ""
    try:
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        text = render_to_string(f"{template}_body.txt", context)
        html = render_to_string(f"{template}_body.html", context)
    except Exception as exc:  # a template bug must not undo the caller's event
        logger.exception("email %s (%s) could not be rendered", key, template)
        label = EMAIL_KINDS[template].label if template in EMAIL_KINDS else template
        subject, text, html = label, "", ""
        error = f"Could not render: {type(exc).__name__}: {exc}"
    return email_record(
        key=key,
        to=to,
        template=template,
        subject=subject,
        text=text,
        html=html,
        user=user,
        notify_user=not context.get("in_app_notification_sent"),
        notification_url=context.get("notification_url", ""),
        notification_body=context.get("notification_body", ""),
        render_error=error,
    )


def email_record(
    *,
    key: str,
    to: str,
    template: str,
    subject: str,
    text: str,
    html: str,
    user=None,
    notify_user: bool = True,
    notification_title: str = "",
    notification_url: str = "",
    notification_body: str = "",
    render_error: str = "",
) -> EmailLog:
    """Record an already rendered message (EmailLog) and, for `user` when
    `notify_user`, its notification, in one savepoint; queue delivery on commit.

    The lower half of `email_send`, also used for allauth's account emails (rendered
    by allauth). Idempotent by `key`."""
    existing = EmailLog.objects.filter(key=key).first()
    if existing is not None:
        return existing
    if render_error:
        status = EmailLog.Status.FAILED
    elif (
        user is not None
        and email_kind_is_optional(template)
        and template in (notification_muted_kinds(user=user))
    ):
        status = EmailLog.Status.SKIPPED
    else:
        status = EmailLog.Status.PENDING
    try:
        with transaction.atomic():
            log = EmailLog.objects.create(
                key=key,
                to=to,
                subject=subject[:300],
                template=template,
                text_body=text,
                html_body=html,
                status=status,
                last_error=render_error[:2000],
                next_attempt_at=timezone.now() if status == EmailLog.Status.PENDING else None,
            )
            if notify_user:
                notify(
                    user=user,
                    kind=template[:60],
                    title=notification_title or subject,
                    body=notification_body,
                    url=notification_url,
                )
    except IntegrityError:  # the same key recorded concurrently
        return EmailLog.objects.get(key=key)
    if status == EmailLog.Status.PENDING:
        _queue_on_commit(log.pk)
    return log


def email_recipient_user(email: str):
    """The account registered with `email` (case-insensitive), or None for a guest."""
    from marketplace.models import User

    return User.objects.filter(email__iexact=email).first() if email else None


def _queue_on_commit(log_id: int) -> None:
    transaction.on_commit(lambda: _queue(log_id))


def _queue(log_id: int) -> None:
    """Hand the row to the worker. A broker outage leaves it PENDING: the
    `retry_failed_emails` sweep picks it up, so nothing is raised into the caller."""
    from messaging.tasks import email_deliver_task

    try:
        email_deliver_task.delay(log_id)
    except Exception:
        logger.warning("email %s: could not be queued; the sweeper will", log_id, exc_info=True)


# ------------------------------------------------------------------------------
# Delivery (the task)
# ------------------------------------------------------------------------------
def email_deliver(*, log_id: int) -> EmailLog | None:
    """Try to send one PENDING email once. Never raises.

    Sent: SENT with `sent_at`. Failed with tries left: stays PENDING, error kept,
    `next_attempt_at` = now + the backoff delay (the task schedules that retry). The
    last try failed: FAILED. Anything but PENDING (SENT, SKIPPED, FAILED) is left alone,
    so a duplicate task run sends nothing twice; the row is locked while it is sent, so
    two workers cannot send it at the same time.
    """
    with transaction.atomic():
        log = EmailLog.objects.select_for_update().filter(pk=log_id).first()
        if log is None or log.status != EmailLog.Status.PENDING:
            return log
        now = timezone.now()
        log.attempts += 1
        try:
            if not (log.text_body or log.html_body):
                raise ValueError("Nothing to send: the message was never rendered.")
            message = EmailMultiAlternatives(
                log.subject, log.text_body, settings.DEFAULT_FROM_EMAIL, [log.to]
            )
            if log.html_body:
                message.attach_alternative(log.html_body, "text/html")
            message.send()
        except Exception as exc:
            delay = email_retry_delay(attempts=log.attempts)
            if not (log.text_body or log.html_body):
                delay = None
            log.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if delay is None:
                log.status = EmailLog.Status.FAILED
                log.next_attempt_at = None
            else:
                log.next_attempt_at = now + timedelta(seconds=delay)
            log.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            logger.warning("email %s to %s failed (try %s): %s", log.key, log.to, log.attempts, exc)
            return log
        log.status = EmailLog.Status.SENT
        log.sent_at = now
        log.next_attempt_at = None
        fields = ["attempts", "status", "sent_at", "next_attempt_at"]
        if log.template.startswith(SCRUBBED_AFTER_SENDING):
            # One-time links (password reset, address confirmation) are not kept once
            # they are out: a SENT row is never sent again, so nothing needs them.
            log.text_body = log.html_body = ""
            fields += ["text_body", "html_body"]
        log.save(update_fields=fields)
    return log


# ------------------------------------------------------------------------------
# Retrying what failed
# ------------------------------------------------------------------------------
@dataclass(frozen=True)
class EmailRetryCounts:
    failed: int
    stale: int


def _sendable() -> Q:
    return ~Q(text_body="") | ~Q(html_body="")


def emails_retry_failed(
    *,
    stale_after: timedelta = timedelta(minutes=30),
    failed_within: timedelta = timedelta(hours=24),
    limit: int = 500,
) -> EmailRetryCounts:
    """Periodic (beat) and `manage.py retry_failed_emails`: queue again

    - FAILED rows created within `failed_within` (older ones wait for staff: a bad
      address is not retried forever): back to PENDING with a fresh set of tries;
    - PENDING rows whose try was due more than `stale_after` ago (their task was lost:
      a broker outage, a worker killed).

    Rows that were never rendered are left alone. Safe to run twice: delivery is keyed
    and locked (`email_deliver`)."""
    now = timezone.now()
    failed_ids = list(
        EmailLog.objects.filter(
            _sendable(), status=EmailLog.Status.FAILED, created_at__gte=now - failed_within
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    stale_ids = list(
        EmailLog.objects.filter(_sendable(), status=EmailLog.Status.PENDING)
        .filter(Q(next_attempt_at__lt=now - stale_after) | Q(next_attempt_at__isnull=True))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    with transaction.atomic():
        EmailLog.objects.filter(pk__in=failed_ids, status=EmailLog.Status.FAILED).update(
            status=EmailLog.Status.PENDING, attempts=0, next_attempt_at=now
        )
        EmailLog.objects.filter(pk__in=stale_ids).update(next_attempt_at=now)
        for log_id in failed_ids + stale_ids:
            _queue_on_commit(log_id)
    return EmailRetryCounts(failed=len(failed_ids), stale=len(stale_ids))


def email_retry(*, log_id: int, actor, reason: str) -> EmailLog:
    """Staff: send one FAILED email again (a fresh set of tries), recorded in the audit
    log with `reason`. Raises ApplicationError for anything but a FAILED, rendered row."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Say briefly why you retry this email.")
    with transaction.atomic():
        log = EmailLog.objects.select_for_update().filter(pk=log_id).first()
        if log is None:
            raise ApplicationError("No such email.")
        if log.status != EmailLog.Status.FAILED:
            raise ApplicationError(
                f"This email is {log.status.lower()}; only a failed email can be retried."
            )
        if not (log.text_body or log.html_body):
            raise ApplicationError("This email was never rendered; there is nothing to send.")
        before = {"status": log.status, "attempts": log.attempts, "last_error": log.last_error}
        log.status = EmailLog.Status.PENDING
        log.attempts = 0
        log.next_attempt_at = timezone.now()
        log.save(update_fields=["status", "attempts", "next_attempt_at"])
        staff_action(
            actor=actor,
            action="messaging.email.retry",
            target=log,
            reason=reason,
            before=before,
            after={"status": log.status},
        )
        _queue_on_commit(log.pk)
    return log


# ------------------------------------------------------------------------------
# Notification centre and preferences
# ------------------------------------------------------------------------------
def notification_mark_read(*, user, notification_id: int) -> Notification:
    """Mark one of `user`'s notifications read (once: the first read time is kept).
    Raises Notification.DoesNotExist for someone else's or a missing one."""
    notification = Notification.objects.get(pk=notification_id, user=user)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user) -> int:
    """Mark every unread notification of `user` read; returns how many."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notification_muted_kinds(*, user) -> set[str]:
    """The optional email kinds `user` turned off."""
    muted = (
        NotificationPreference.objects.filter(user=user)
        .values_list("muted_kinds", flat=True)
        .first()
    )
    return set(muted or [])


def notification_preferences_update(*, user, muted_kinds: list[str]) -> NotificationPreference:
    """Save which optional emails `user` turned off. Only optional kinds can be
    muted: anything else raises ApplicationError (transactional mail always goes)."""
    unknown = [k for k in muted_kinds if not email_kind_is_optional(k)]
    if unknown:
        raise ApplicationError("Only optional emails can be turned off.", {"kinds": unknown})
    pref, _ = NotificationPreference.objects.get_or_create(user=user)
    pref.muted_kinds = sorted(set(muted_kinds))
    pref.full_clean()
    pref.save()
    return pref
