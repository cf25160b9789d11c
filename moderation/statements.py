"""Statements of reasons: the affected user is told what staff decided, why, and how to
appeal."""

from django.urls import reverse

from messaging.notifications import notify
from moderation.models import StaffActionLog


def statement_of_reasons_send(*, entry: StaffActionLog, statement: str = "") -> None:
    """Notify `entry.subject_user` (in-app, and by email through `notify`) of the decision
    recorded in `entry`. Idempotent per entry."""
    user = entry.subject_user
    title = statement or f"A decision about your account: {entry.action}"
    body = f"Why: {entry.reason}"
    if entry.appealable:
        body += "\nIf you think this is wrong you can appeal once from this notification."
    notify(
        user=user,
        kind="moderation_decision",
        title=title[:200],
        body=body,
        url=reverse("moderation:statement", args=[entry.pk]),
        staff_action_id=entry.pk,
    )
