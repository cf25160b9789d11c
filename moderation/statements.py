"""Statements of reasons: the affected user is told what staff decided, why, and how to
appeal — in the app (one Notification, carrying the decision's id) and by email."""

from django.db import transaction
from django.urls import reverse

from messaging.notifications import notify
from moderation.models import StaffActionLog

EMAIL_TEMPLATE = "moderation/emails/decision"


def _title(entry: StaffActionLog, statement: str) -> str:
    return (statement or f"A decision about your account: {entry.action}")[:200]


def statement_of_reasons_send(*, entry: StaffActionLog, statement: str = "") -> None:
    """Notify `entry.subject_user` of the decision recorded in `entry`: the in-app
    notification now (in the decision's transaction, so both land or neither), the email
    once it commits (`statement_email_send_task`). Exactly one notification per decision:
    the email is sent with `in_app_notification_sent`, so messaging adds none."""
    user = entry.subject_user
    title = _title(entry, statement)
    body = f"Why: {entry.reason}"
    if entry.appealable:
        body += "\nIf you think this is wrong you can appeal once from this notification."
    notify(
        user=user,
        kind=EMAIL_TEMPLATE,  # the parity rule: a notification kind names its email
        title=title,
        body=body,
        url=reverse("moderation:statement", args=[entry.pk]),
        staff_action_id=entry.pk,
    )
    if user is not None and user.email:
        from moderation.tasks import statement_email_send_task

        entry_id = entry.pk
        transaction.on_commit(lambda: statement_email_send_task.delay(entry_id, title), robust=True)


def statement_email_send(*, entry_id: int, title: str) -> None:
    """Email the statement of reasons of log row `entry_id` (once: keyed by the row)."""
    from messaging.services import email_send

    entry = StaffActionLog.objects.select_related("subject_user").filter(pk=entry_id).first()
    if entry is None or entry.subject_user is None:
        return
    email_send(
        key=f"statement-of-reasons-{entry.pk}",
        to=entry.subject_user.email,
        template=EMAIL_TEMPLATE,
        context={
            "entry": entry,
            "title": title,
            "statement_path": reverse("moderation:statement", args=[entry.pk]),
            "in_app_notification_sent": True,
        },
    )
