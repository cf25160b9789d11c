"""allauth's account emails (confirm your address, reset your password, …) through the
same log, queue and retries as every other email (registered as marketplace's
`account email sender` hook in `MessagingConfig.ready()`).

Which of them also become an in-app notification for the account they concern is
decided here, once; the parity test (tests/messaging/test_email_parity.py) lists the
exemptions with their reasons.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.urls import reverse

from messaging.models import EmailLog
from messaging.services import email_recipient_user, email_record

# template → (notification body, URL name the notification links to). Security notices
# about an existing account. Address confirmations are not here: the address is not
# yet the account's (or the person cannot sign in before confirming it), and a guest
# asking about an unknown address has no account to notify.
ACCOUNT_EMAIL_NOTIFICATIONS: dict[str, tuple[str, str]] = {
    "account/email/password_reset_key": (
        "Someone asked to reset your password. If it was not you, ignore it: "
        "your password stays the same.",
        "account_change_password",
    ),
    "account/email/account_already_exists": (
        "Someone tried to sign up with your email address. If it was you, log in or "
        "reset your password instead.",
        "account_email",
    ),
}


def account_email_record(*, template: str, to: str, message, user=None) -> EmailLog:
    """Record an email allauth rendered (`message`) and queue it like any other. A
    new key each time: allauth decides when an account email is sent again."""
    text, html = message.body, ""
    for content, mimetype in getattr(message, "alternatives", []) or []:
        if mimetype == "text/html":
            html = content
    if getattr(message, "content_subtype", "plain") == "html":
        text, html = "", message.body
    subject = message.subject
    prefix = getattr(settings, "ACCOUNT_EMAIL_SUBJECT_PREFIX", "")
    title = subject[len(prefix) :] if prefix and subject.startswith(prefix) else subject
    notice = ACCOUNT_EMAIL_NOTIFICATIONS.get(template)
    recipient = (user or email_recipient_user(to)) if notice else None
    return email_record(
        key=f"account:{template.rsplit('/', 1)[-1]}:{uuid.uuid4().hex}",
        to=to,
        template=template,
        subject=subject,
        text=text,
        html=html,
        user=recipient,
        notify_user=notice is not None,
        notification_title=title,
        notification_body=notice[0] if notice else "",
        notification_url=reverse(notice[1]) if notice else "",
    )
