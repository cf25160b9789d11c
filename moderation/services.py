"""Moderation writes. v1: users report reviews; staff resolve the reports (hide the review
or dismiss)."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Review
from catalog.reviews import review_set_hidden
from marketplace.exceptions import ApplicationError
from marketplace.models import User
from marketplace.selectors import user_has_verified_email
from moderation.models import Report


def review_report(*, review: Review, reporter: User, reason: str, details: str = "") -> Report:
    """Report a review to the moderators: one open report per reporter and review."""
    if reason not in Report.REVIEW_REASONS:
        raise ApplicationError("Choose why you are reporting this review.")
    if not user_has_verified_email(reporter):
        raise ApplicationError("Verify your email address to report reviews.")
    if review.author_id == reporter.pk:
        raise ApplicationError("You cannot report your own review.")
    if review.is_hidden:
        raise ApplicationError("This review has already been removed.")
    details = (details or "").strip()
    if len(details) > 1000:
        raise ApplicationError("Keep the details under 1000 characters.")
    already = ApplicationError("You have already reported this review; our team will look at it.")
    if Report.objects.filter(review=review, reporter=reporter, status=Report.Status.OPEN).exists():
        raise already
    report = Report(
        kind=Report.Kind.REVIEW,
        target_id=review.pk,
        review=review,
        subject_user_id=review.author_id,
        reporter=reporter,
        reason=reason,
        details=details,
    )
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError as exc:  # a double submit raced past the check above
        raise already from exc
    return report


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


@transaction.atomic
def decision_appeal(*, entry_id: int, user: User, text: str) -> Report:
    """The affected user appeals a staff decision, once: an APPEAL report lands in the
    moderation queue. Locks the log row so a double submit makes one appeal."""
    from moderation.models import StaffActionLog

    text = (text or "").strip()
    if not text:
        raise ApplicationError("Tell us why you think this decision is wrong.")
    if len(text) > 4000:
        raise ApplicationError("Keep your appeal under 4000 characters.")
    entry = (
        StaffActionLog.objects.select_for_update().filter(pk=entry_id, subject_user=user).first()
    )
    if entry is None or not entry.appealable:
        raise ApplicationError("This decision cannot be appealed.")
    if entry.appealed_at is not None:
        raise ApplicationError("You have already appealed this decision; our team will answer.")
    report = Report.objects.create(
        kind=Report.Kind.APPEAL,
        target_id=entry.pk,
        subject_user=user,
        reporter=user,
        reason=Report.Reason.APPEAL,
        details=text,
    )
    StaffActionLog.objects.filter(pk=entry.pk).update(appealed_at=timezone.now())
    return report
