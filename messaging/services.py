import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from messaging.models import EmailLog
from messaging.notifications import notify

logger = logging.getLogger(__name__)


def email_send(*, key: str, to: str, template: str, context: dict) -> EmailLog:
    """Render `<template>_subject.txt`, `_body.txt` and `_body.html` and send them once.

    Idempotent by `key`: a message already SENT is not sent again. A failure is logged on
    the row (FAILED, error kept) and re-raised so the calling task can retry.

    Every email to a registered user also creates their in-app notification (once per
    key): kind = `template`, title = the subject, link = `context["notification_url"]`
    (a path) when given. Guests (no account for `to`) get the email only.
    A caller that already created the notification itself (e.g. a statement of reasons,
    in the decision's transaction) passes `context["in_app_notification_sent"] = True`.
    """
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    try:
        with transaction.atomic():
            log = EmailLog.objects.create(key=key, to=to, subject=subject[:300], template=template)
            _notification_for_email(to=to, template=template, subject=subject, context=context)
    except IntegrityError:
        log = EmailLog.objects.get(key=key)
        if log.status == EmailLog.Status.SENT:
            return log
    text = render_to_string(f"{template}_body.txt", context)
    html = render_to_string(f"{template}_body.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    EmailLog.objects.filter(pk=log.pk).update(attempts=log.attempts + 1)
    try:
        message.send()
    except Exception as exc:
        EmailLog.objects.filter(pk=log.pk).update(
            status=EmailLog.Status.FAILED, last_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        logger.warning("email %s to %s failed", key, to, exc_info=True)
        raise
    EmailLog.objects.filter(pk=log.pk).update(status=EmailLog.Status.SENT, sent_at=timezone.now())
    log.refresh_from_db()
    return log


def _notification_for_email(*, to: str, template: str, subject: str, context: dict) -> None:
    from marketplace.models import User

    if context.get("in_app_notification_sent"):
        return

    user = context.get("notification_user") or User.objects.filter(email__iexact=to).first()
    notify(
        user=user,
        kind=template,
        title=subject,
        body=context.get("notification_body", ""),
        url=context.get("notification_url", ""),
    )
