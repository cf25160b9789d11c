"""Reads for notifications, email preferences and the staff email log."""

from django.db.models import QuerySet

from messaging.email_kinds import optional_email_kinds
from messaging.models import EmailLog, Notification
from messaging.services import notification_muted_kinds


def email_failed_count() -> int:
    """How many emails are FAILED (for the staff Admin Ops page; the list is
    `messaging:staff-emails?status=FAILED`)."""
    return EmailLog.objects.filter(status=EmailLog.Status.FAILED).count()


def email_list_for_staff(*, status: str = "") -> QuerySet[EmailLog]:
    """Every email, newest first, optionally one status. Bodies are not loaded: they
    may carry one-time links (password resets) and the list never shows them."""
    qs = EmailLog.objects.defer("text_body", "html_body").order_by("-created_at", "-id")
    if status:
        qs = qs.filter(status=status)
    return qs


def notification_list_for_user(*, user) -> QuerySet[Notification]:
    """`user`'s notifications, newest first."""
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def notification_unread_count(*, user) -> int:
    """Unread notifications of `user` (one indexed count; 0 for anonymous, no query)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notification_preferences_for_user(*, user) -> list[dict]:
    """Each optional email kind with its label and whether `user` receives it."""
    muted = notification_muted_kinds(user=user)
    return [
        {"kind": kind, "label": label, "enabled": kind not in muted}
        for kind, label in optional_email_kinds()
    ]
