from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet

from catalog.hooks import ReviewReports
from catalog.models import Product
from marketplace.models import User
from moderation.models import Report, StaffActionLog, Suspension, report_reason_choices


def review_reports_for_product(*, product: Product, user: User) -> ReviewReports:
    """The product page's report form and state (a `catalog.hooks` hook): the reasons a
    report may give and the reviews of `product` that `user` already has an open report
    of (one query, none for visitors)."""
    reported: frozenset[int] = frozenset()
    if user.is_authenticated:
        reported = frozenset(
            Report.objects.filter(
                reporter=user, status=Report.Status.OPEN, review__product=product
            ).values_list("review_id", flat=True)
        )
    return ReviewReports(
        reasons=report_reason_choices(Report.REVIEW_REASONS), reported_review_ids=reported
    )


def open_report_counts(kind: str, ids) -> dict[int, int]:
    """Open reports per target id of one kind (one query): staff badges on the product
    page, Q&A and messages. A listing also counts the IP notices about it."""
    ids = [int(i) for i in ids]
    if not ids:
        return {}
    kinds = [Report.Kind.LISTING, Report.Kind.IP] if kind == Report.Kind.LISTING else [kind]
    rows = (
        Report.objects.filter(kind__in=kinds, target_id__in=ids, status=Report.Status.OPEN)
        .values("target_id")
        .annotate(n=Count("id"))
    )
    return {row["target_id"]: row["n"] for row in rows}


def actioned_report_counts(user_ids) -> dict[int, int]:
    """How many reports about each user ended with action taken (repeat offenders)."""
    rows = (
        Report.objects.filter(subject_user_id__in=list(user_ids), status=Report.Status.ACTIONED)
        .exclude(kind=Report.Kind.APPEAL)
        .values("subject_user_id")
        .annotate(n=Count("id"))
    )
    return {row["subject_user_id"]: row["n"] for row in rows}


REPEAT_OFFENDER_AT = 2  # actioned reports before the queue flags a user


@dataclass
class QueueRow:
    report: Report
    target: object | None
    preview: str
    staff_url: str
    removed: bool
    can_remove: bool
    remove_label: str
    offender_count: int
    repeat_offender: bool
    decision: StaffActionLog | None = None  # appeals: the decision under appeal


def report_queue(*, status: str = "open", kind: str = "") -> QuerySet[Report]:
    """The staff queue's reports: open (oldest first, so nothing waits forever),
    resolved, or all (newest first), optionally of one kind."""
    reports = Report.objects.select_related("reporter", "subject_user", "resolved_by")
    if kind in Report.Kind.values:
        reports = reports.filter(kind=kind)
    if status == "open":
        return reports.filter(status=Report.Status.OPEN).order_by("created_at", "id")
    if status == "resolved":
        reports = reports.exclude(status=Report.Status.OPEN)
    return reports.order_by("-created_at", "-id")


def report_queue_rows(reports) -> list[QueueRow]:
    """One page of the queue with each report's target, preview and the subject's
    record, in a constant number of queries per kind on the page."""
    from moderation.kinds import KINDS

    reports = list(reports)
    by_kind: dict[str, list[int]] = {}
    for r in reports:
        if r.target_id is not None:
            by_kind.setdefault(r.kind, []).append(r.target_id)
    targets = {kind: KINDS[kind].load_any(ids) for kind, ids in by_kind.items() if kind in KINDS}
    decisions = {
        e.pk: e
        for e in StaffActionLog.objects.select_related("actor").filter(
            pk__in=by_kind.get(Report.Kind.APPEAL, [])
        )
    }
    offences = actioned_report_counts({r.subject_user_id for r in reports if r.subject_user_id})
    rows = []
    for r in reports:
        spec = KINDS.get(r.kind)
        target = targets.get(r.kind, {}).get(r.target_id)
        count = offences.get(r.subject_user_id, 0)
        rows.append(
            QueueRow(
                report=r,
                target=target,
                preview=spec.preview(target) if spec and target is not None else "",
                staff_url=spec.staff_url(target) if spec and target is not None else "",
                removed=bool(spec and target is not None and spec.is_removed(target)),
                can_remove=bool(spec and spec.remove and target is not None),
                remove_label=spec.remove_label if spec else "",
                offender_count=count,
                repeat_offender=count >= REPEAT_OFFENDER_AT,
                decision=decisions.get(r.target_id) if r.kind == Report.Kind.APPEAL else None,
            )
        )
    return rows


def staff_action_log_list(
    *,
    actor: str = "",
    action: str = "",
    target_type: str = "",
    date_from=None,
    date_to=None,
    q: str = "",
) -> QuerySet[StaffActionLog]:
    """The audit trail, newest first, filtered by actor email, action prefix, target
    type, a date range (inclusive days) and text in the reason or target."""
    entries = StaffActionLog.objects.select_related("actor", "subject_user")
    if actor:
        entries = entries.filter(actor__email__icontains=actor)
    if action:
        entries = entries.filter(action__startswith=action)
    if target_type:
        entries = entries.filter(target_type=target_type)
    if date_from:
        entries = entries.filter(created_at__date__gte=date_from)
    if date_to:
        entries = entries.filter(created_at__date__lte=date_to)
    if q:
        entries = entries.filter(
            Q(reason__icontains=q) | Q(target_repr__icontains=q) | Q(target_id=q)
        )
    return entries.order_by("-created_at", "-id")


def suspension_list(*, state: str = "active") -> QuerySet[Suspension]:
    """Suspensions for staff: active ones (soonest end first) or ended ones (newest)."""
    rows = Suspension.objects.select_related("user", "created_by", "lifted_by")
    if state == "ended":
        return rows.filter(lifted_at__isnull=False).order_by("-lifted_at", "-id")
    return rows.filter(lifted_at__isnull=True).order_by(
        F("ends_at").asc(nulls_last=True), "-starts_at"
    )


def product_open_reports(*, product_id: int) -> dict[str, int]:
    """Open reports on a listing (with IP notices) and on its questions and answers
    (a `catalog.hooks` hook for the staff badges on the product page); {} when none."""
    from messaging.models import Answer, Question

    listing = sum(open_report_counts(Report.Kind.LISTING, [product_id]).values())
    question_ids = list(Question.objects.filter(product_id=product_id).values_list("pk", flat=True))
    answer_ids = list(
        Answer.objects.filter(question__product_id=product_id).values_list("pk", flat=True)
    )
    qa = sum(open_report_counts(Report.Kind.QUESTION, question_ids).values()) + sum(
        open_report_counts(Report.Kind.ANSWER, answer_ids).values()
    )
    if not (listing or qa):
        return {}
    return {"listing": listing, "qa": qa}


def ip_strikes(user_ids) -> dict[int, int]:
    """{seller id: upheld IP takedowns} (see `moderation.ip`); the queue and the admin flag
    sellers at `moderation.ip.REPEAT_INFRINGER_STRIKES` or more."""
    from moderation.ip import ip_strikes as _ip_strikes

    return _ip_strikes(user_ids)
