"""Moderation writes. v1: staff resolve reports of reviews (hide the review or dismiss)."""

from django.db import transaction
from django.utils import timezone

from catalog.reviews import review_set_hidden
from marketplace.exceptions import ApplicationError
from marketplace.models import User
from moderation.models import Report


@transaction.atomic
def report_resolve(*, report: Report, staff: User, hide_review: bool) -> Report:
    """Close an open report. `hide_review`: the review is hidden (the product's rating
    follows) and every other open report of it is closed as actioned too; otherwise
    only this report is dismissed."""
    report = Report.objects.select_for_update().select_related("review").get(pk=report.pk)
    if report.status != Report.Status.OPEN:
        raise ApplicationError("This report is already closed.")
    now = timezone.now()
    if hide_review:
        review_set_hidden(review=report.review, hidden=True)
        Report.objects.filter(review=report.review, status=Report.Status.OPEN).update(
            status=Report.Status.ACTIONED, resolved_at=now, resolved_by=staff
        )
    else:
        Report.objects.filter(pk=report.pk).update(
            status=Report.Status.DISMISSED, resolved_at=now, resolved_by=staff
        )
    report.refresh_from_db()
    return report
