"""Moderation writes: reports of anything, the staff decisions that close them, and
appeals. Every staff decision goes through `marketplace.audit.staff_action` (inside the
kind's removal, the suspension service, or here), in the same transaction as the change.
"""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Review
from marketplace.audit import staff_action
from marketplace.exceptions import ApplicationError
from marketplace.models import User
from marketplace.selectors import user_has_verified_email
from moderation.kinds import ACTION_KINDS, KINDS, Reporter, kind_get
from moderation.models import Report, StaffActionLog
from moderation.suspensions import SUSPEND_ACTION, user_suspend, user_unsuspend

DETAILS_MAX = 1000


def report_create(
    *, kind: str, target, reporter: Reporter, reason: str, details: str = ""
) -> Report:
    """File a report of `target` (already loaded through the kind's `load`, so visible to
    this reporter). A signed-in reporter must be verified and not suspended and may not
    report their own things; a guest must hold an order token and report a kind open to
    guests. One open report per reporter and target (the database holds it too)."""
    spec = kind_get(kind)
    if spec is None or target is None:
        raise ApplicationError("There is nothing to report here.")
    if reason not in spec.reasons:
        raise ApplicationError("Choose why you are reporting this.")
    user = reporter.user
    if user is not None:
        if not user_has_verified_email(user):
            raise ApplicationError("Verify your email address to report things.")
        if user.is_suspended:
            raise ApplicationError("Your account is suspended: you cannot report things.")
    elif reporter.order is None or not spec.guests:
        raise ApplicationError("Sign in to report this.")
    subject = spec.subject(target)
    if user is not None and subject is not None and subject.pk == user.pk:
        raise ApplicationError(f"You cannot report your own {spec.noun}.")
    details = (details or "").strip()
    if len(details) > DETAILS_MAX:
        raise ApplicationError(f"Keep the details under {DETAILS_MAX} characters.")
    mine = Report.objects.filter(kind=spec.code, target_id=target.pk, status=Report.Status.OPEN)
    mine = (
        mine.filter(reporter=user)
        if user
        else mine.filter(reporter__isnull=True, reporter_email=reporter.email)
    )
    already = f"You have already reported this {spec.noun}; our team will look at it."
    if mine.exists():
        raise ApplicationError(already)
    report = Report(
        kind=spec.code,
        target_id=target.pk,
        review=target if isinstance(target, Review) else None,
        subject_user=subject,
        reporter=user,
        reporter_email="" if user else reporter.email,
        reason=reason,
        details=details,
    )
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError as exc:  # a double submit raced past the check above
        raise ApplicationError(already) from exc
    return report


def review_report(*, review: Review, reporter: User, reason: str, details: str = "") -> Report:
    """Report a review (the reviews section's form): see `report_create`."""
    if review.is_hidden:
        raise ApplicationError("This review has already been removed.")
    if reason not in Report.REVIEW_REASONS:
        raise ApplicationError("Choose why you are reporting this review.")
    if review.author_id == reporter.pk:
        raise ApplicationError("You cannot report your own review.")
    return report_create(
        kind=Report.Kind.REVIEW,
        target=review,
        reporter=Reporter(user=reporter),
        reason=reason,
        details=details,
    )


def _clean(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Give a reason: it is recorded and shown to the people affected.")
    if len(reason) > 2000:
        raise ApplicationError("Keep the reason under 2000 characters.")
    return reason


def _same_target_kinds(kind: str) -> list[str]:
    # A listing and an IP notice about it are the same thing to act on.
    if kind in (Report.Kind.LISTING, Report.Kind.IP):
        return [Report.Kind.LISTING, Report.Kind.IP]
    return [kind]


def _close(report: Report, *, staff: User, status: str, resolution: str, whole_target: bool):
    reports = Report.objects.filter(status=Report.Status.OPEN)
    if whole_target:
        reports = reports.filter(
            kind__in=_same_target_kinds(report.kind), target_id=report.target_id
        )
    else:
        reports = reports.filter(pk=report.pk)
    reports.update(
        status=status, resolved_at=timezone.now(), resolved_by=staff, resolution=resolution
    )


def _lock_open(report_id: int) -> Report:
    report = Report.objects.select_for_update().filter(pk=report_id).first()
    if report is None:
        raise ApplicationError("No such report.")
    if report.status != Report.Status.OPEN:
        raise ApplicationError("This report is already closed.")
    return report


@transaction.atomic
def report_dismiss(*, report: Report, staff: User, reason: str) -> Report:
    """Close one open report with no action on its target (audited, nobody notified)."""
    reason = _clean(reason)
    report = _lock_open(report.pk)
    _close(
        report, staff=staff, status=Report.Status.DISMISSED, resolution=reason, whole_target=False
    )
    staff_action(
        actor=staff,
        action="report.dismiss",
        target=report,
        reason=reason,
        before={"status": Report.Status.OPEN},
        after={"status": Report.Status.DISMISSED},
    )
    report.refresh_from_db()
    return report


@transaction.atomic
def report_remove_content(*, report: Report, staff: User, reason: str) -> Report:
    """Remove what the report is about (soft delete, hide, or take the listing down)
    through the kind's audited removal, which sends the author the statement of reasons;
    every open report of the same target closes as actioned."""
    reason = _clean(reason)
    report = _lock_open(report.pk)
    spec = KINDS.get(report.kind)
    if spec is None or spec.remove is None:
        raise ApplicationError("This kind of report has nothing to remove; suspend the user.")
    target = spec.load_any([report.target_id]).get(report.target_id)
    if target is None:
        raise ApplicationError("The reported thing no longer exists; dismiss the report.")
    spec.remove(target, staff=staff, reason=reason)
    _close(report, staff=staff, status=Report.Status.ACTIONED, resolution=reason, whole_target=True)
    report.refresh_from_db()
    return report


@transaction.atomic
def report_suspend_subject(
    *, report: Report, staff: User, reason: str, ends_at: datetime | None = None
) -> Report:
    """Suspend the user the report is about (`moderation.suspensions.user_suspend`,
    audited, statement sent) and close the open reports of this target, and those of the
    account itself, as actioned."""
    reason = _clean(reason)
    report = _lock_open(report.pk)
    if report.subject_user is None:
        raise ApplicationError("This report is not about a registered user.")
    user_suspend(user=report.subject_user, staff=staff, reason=reason, ends_at=ends_at)
    _close(report, staff=staff, status=Report.Status.ACTIONED, resolution=reason, whole_target=True)
    # Reports of the account itself are answered by the suspension too.
    Report.objects.filter(
        kind=Report.Kind.USER, target_id=report.subject_user_id, status=Report.Status.OPEN
    ).update(
        status=Report.Status.ACTIONED,
        resolved_at=timezone.now(),
        resolved_by=staff,
        resolution=reason,
    )
    report.refresh_from_db()
    return report


def report_resolve(*, report: Report, staff: User, hide_review: bool, reason: str) -> Report:
    """The review queue's two answers (kept for the admin actions): hide the review
    (`report_remove_content`) or dismiss this report (`report_dismiss`)."""
    if hide_review:
        return report_remove_content(report=report, staff=staff, reason=reason)
    return report_dismiss(report=report, staff=staff, reason=reason)


@transaction.atomic
def decision_appeal(*, entry_id: int, user: User, text: str) -> Report:
    """The affected user appeals a staff decision, once: an APPEAL report lands in the
    moderation queue. Locks the log row so a double submit makes one appeal."""
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


def _undo(entry: StaffActionLog, *, staff: User, reason: str) -> None:
    """Reverse the decision `entry` recorded, through the service that does the opposite
    (its own audit row tells the user)."""
    if entry.action == SUSPEND_ACTION:
        user = User.objects.filter(pk=entry.target_id).first()
        if user is not None and user.is_suspended:
            user_unsuspend(user=user, staff=staff, reason=reason)
            return
        raise ApplicationError("This suspension has already ended; nothing to reverse.")
    kind = ACTION_KINDS.get(entry.action)
    if kind is None:
        raise ApplicationError("This decision cannot be reversed here; change it by hand.")
    spec = KINDS[kind]
    target = spec.load_any([int(entry.target_id)]).get(int(entry.target_id))
    if target is None:
        raise ApplicationError("The thing this decision was about no longer exists.")
    spec.restore(target, staff=staff, reason=reason)


@transaction.atomic
def appeal_decide(*, report: Report, staff: User, reverse: bool, reason: str) -> Report:
    """Staff answer an appeal. Uphold: the decision stands (audited, the user is told).
    Reverse: the decision is undone (content restored, listing back, suspension lifted)
    by the opposite service, whose audit row tells the user. Whoever made the original
    decision may not judge its appeal."""
    reason = _clean(reason)
    report = _lock_open(report.pk)
    if report.kind != Report.Kind.APPEAL:
        raise ApplicationError("This is not an appeal.")
    entry = StaffActionLog.objects.filter(pk=report.target_id).first()
    if entry is None:
        raise ApplicationError("The decision under appeal no longer exists.")
    if entry.actor_id is not None and entry.actor_id == staff.pk:
        raise ApplicationError("Another member of staff must decide an appeal of your decision.")
    if reverse:
        _undo(entry, staff=staff, reason=f"Appeal accepted: {reason}")
        status = Report.Status.ACTIONED
    else:
        staff_action(
            actor=staff,
            action="appeal.uphold",
            target=entry,
            reason=reason,
            before={"decision": entry.action},
            after={"decision": entry.action, "appeal": "rejected"},
            subject_user=report.subject_user,
            statement="Your appeal was reviewed: the decision stands",
        )
        status = Report.Status.DISMISSED
    _close(report, staff=staff, status=status, resolution=reason, whole_target=False)
    report.refresh_from_db()
    return report
