"""Notice and takedown for intellectual property (the Content & IP Policy).

1. `ip_notice_submit`: anyone reports a listing that copies their work → a `Report` of
   kind IP (in the moderation queue) with its `IPNotice`; the claimant gets a receipt.
2. `ip_takedown`: staff take the listing down → the seller receives a statement of reasons
   that explains the counter-notice; the report is actioned.
3. `counter_notice_submit`: the seller answers in good faith → a `CounterNotice` and an
   APPEAL report in the queue; the claimant is emailed the counter-notice.
4. `ip_strikes(user_ids)`: upheld IP takedowns per seller; `REPEAT_INFRINGER_STRIKES` or
   more flags a repeat infringer to staff.

Every step is written to the audit trail through `marketplace.audit.staff_action` (the
steps taken by the public or the seller have no staff actor).
"""

from urllib.parse import urlparse

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from catalog.models import Product, ProductSlugHistory
from catalog.services import product_take_down
from marketplace.audit import staff_action
from marketplace.exceptions import ApplicationError
from marketplace.models import User
from messaging.services import email_send
from moderation.models import CounterNotice, IPNotice, Report, StaffActionLog

REPEAT_INFRINGER_STRIKES = 2
IP_TAKEDOWN_ACTION = "listing.ip_take_down"


def listing_from_url(url: str) -> Product | None:
    """The listing a URL of this site points at (`/p/<slug>/`, old slugs too), or None."""
    path = urlparse((url or "").strip()).path or ""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if match.view_name != "catalog:product-detail":
        return None
    slug = match.kwargs.get("slug", "")
    product = Product.objects.select_related("seller").filter(slug=slug).first()
    if product is None:
        old = ProductSlugHistory.objects.select_related("product__seller").filter(slug=slug)
        product = old.first().product if old.exists() else None
    return product


def ip_notice_submit(
    *,
    listing_url: str,
    claimant_name: str,
    claimant_email: str,
    work_description: str,
    signature: str,
    sworn_statement: bool,
    work_url: str = "",
    claimant_organisation: str = "",
    reporter: User | None = None,
    ip: str | None = None,
) -> IPNotice:
    """Record a rights holder's notice about a listing, for staff to review. Refused when
    the URL is not one of our listings, the sworn statement is missing, or the same person
    already has an open notice about that listing."""
    if not sworn_statement:
        raise ApplicationError("A notice needs the sworn statement.")
    product = listing_from_url(listing_url)
    if product is None:
        raise ApplicationError(
            "That address is not a listing on this site. Copy the address of the listing page."
        )
    if reporter is not None and not reporter.is_authenticated:
        reporter = None
    details = (
        f"Notice from {claimant_name} <{claimant_email}>"
        + (f" ({claimant_organisation})" if claimant_organisation else "")
        + f"\nWork: {work_description}"
        + (f"\nPublished at: {work_url}" if work_url else "")
        + f"\nSigned: {signature}"
    )
    try:
        with transaction.atomic():
            report = Report.objects.create(
                kind=Report.Kind.IP,
                target_id=product.pk,
                subject_user=product.seller,
                reporter=reporter,
                reporter_email="" if reporter else claimant_email.lower(),
                reason=Report.Reason.IP,
                details=details[:4000],
            )
            notice = IPNotice.objects.create(
                report=report,
                claimant_name=claimant_name,
                claimant_email=claimant_email,
                claimant_organisation=claimant_organisation,
                work_description=work_description,
                work_url=work_url,
                listing_url=listing_url,
                sworn_statement=True,
                signature=signature,
                ip=ip,
            )
            staff_action(
                actor=None,
                action="ip_notice.receive",
                target=report,
                reason=f"IP notice received from {claimant_name} about “{product.title}”.",
                after={"notice": notice.pk, "listing": product.pk},
            )
    except IntegrityError as exc:
        raise ApplicationError(
            "You already sent a notice about this listing; our team is looking at it."
        ) from exc
    transaction.on_commit(lambda: _email_claimant_receipt(notice.pk))
    return notice


def _email_claimant_receipt(notice_pk: int) -> None:
    notice = IPNotice.objects.select_related("report").get(pk=notice_pk)
    email_send(
        key=f"ip-notice-received-{notice.pk}",
        to=notice.claimant_email,
        template="moderation/emails/ip_notice_received",
        context={"notice": notice},
    )


def ip_takedown(*, report: Report, actor: User, reason: str) -> StaffActionLog:
    """Staff uphold an IP notice: the listing is taken down (hidden from everyone but its
    seller and staff), the report is actioned, and the seller receives a statement of
    reasons that explains how to send a counter-notice. Returns the audit row."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ApplicationError("Give a reason: the seller reads it.")
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        if report.kind != Report.Kind.IP:
            raise ApplicationError("This report is not an IP notice.")
        if report.status != Report.Status.OPEN:
            raise ApplicationError("This notice was already dealt with.")
        product = Product.objects.select_related("seller").filter(pk=report.target_id).first()
        if product is None:
            raise ApplicationError("The listing no longer exists.")
        before = {"is_taken_down": product.is_taken_down}
        product_take_down(
            product=product,
            reason=f"Intellectual-property notice: {reason}"[:500],
            staff=actor,
            audited=False,  # the IP decision below is the one statement the seller gets
        )
        report.status = Report.Status.ACTIONED
        report.resolved_at = timezone.now()
        report.resolved_by = actor
        report.resolution = f"Listing taken down: {reason}"
        report.save(update_fields=["status", "resolved_at", "resolved_by", "resolution"])
        entry = staff_action(
            actor=actor,
            action=IP_TAKEDOWN_ACTION,
            target=product,
            reason=reason,
            before=before,
            after={"is_taken_down": True, "report": report.pk},
            subject_user=product.seller,
            statement=f"Your listing “{product.title}” was taken down after an IP notice",
            appealable=False,
        )
    return entry


def ip_takedown_entry_for_seller(*, entry_id: int, seller: User) -> StaffActionLog | None:
    """The IP takedown decision `entry_id` if it is about `seller` (else None)."""
    return StaffActionLog.objects.filter(
        pk=entry_id, action=IP_TAKEDOWN_ACTION, subject_user=seller
    ).first()


def _notice_for_entry(entry: StaffActionLog) -> IPNotice | None:
    report_id = (entry.after or {}).get("report")
    return IPNotice.objects.select_related("report").filter(report_id=report_id).first()


def counter_notice_submit(
    *,
    entry: StaffActionLog,
    seller: User,
    explanation: str,
    full_name: str,
    address: str,
    signature: str,
    good_faith_statement: bool,
    phone: str = "",
) -> CounterNotice:
    """The seller of a listing taken down for IP answers the notice. Once per notice. Opens
    an APPEAL report for staff and emails the claimant a copy."""
    if entry.action != IP_TAKEDOWN_ACTION or entry.subject_user_id != seller.pk:
        raise ApplicationError("No such decision.")
    if not good_faith_statement:
        raise ApplicationError("A counter-notice needs the good-faith statement.")
    notice = _notice_for_entry(entry)
    if notice is None:
        raise ApplicationError("The notice behind this decision is missing; reply to our email.")
    try:
        with transaction.atomic():
            appeal = Report.objects.create(
                kind=Report.Kind.APPEAL,
                target_id=entry.pk,
                subject_user=seller,
                reporter=seller,
                reason=Report.Reason.APPEAL,
                details=f"Counter-notice to IP notice #{notice.pk}: {explanation}"[:4000],
            )
            counter = CounterNotice.objects.create(
                notice=notice,
                seller=seller,
                report=appeal,
                explanation=explanation,
                full_name=full_name,
                address=address,
                phone=phone,
                good_faith_statement=True,
                signature=signature,
            )
            StaffActionLog.objects.filter(pk=entry.pk).update(appealed_at=timezone.now())
            staff_action(
                actor=None,
                action="ip_counter_notice.receive",
                target=counter,
                reason=f"Counter-notice from the seller to IP notice #{notice.pk}.",
                after={"appeal_report": appeal.pk, "decision": entry.pk},
            )
    except IntegrityError as exc:
        raise ApplicationError("You already sent a counter-notice for this decision.") from exc
    transaction.on_commit(lambda: _email_claimant_counter(counter.pk))
    return counter


def _email_claimant_counter(counter_pk: int) -> None:
    counter = CounterNotice.objects.select_related("notice__report").get(pk=counter_pk)
    email_send(
        key=f"ip-counter-notice-{counter.pk}",
        to=counter.notice.claimant_email,
        template="moderation/emails/ip_counter_notice",
        context={"counter": counter, "notice": counter.notice},
    )


def ip_strikes(user_ids) -> dict[int, int]:
    """{seller id: number of upheld IP notices (listing taken down)} for `user_ids`; sellers
    with none are left out."""
    rows = (
        Report.objects.filter(
            kind=Report.Kind.IP, status=Report.Status.ACTIONED, subject_user_id__in=list(user_ids)
        )
        .values("subject_user_id")
        .annotate(n=Count("id"))
    )
    return {row["subject_user_id"]: row["n"] for row in rows}


def is_repeat_infringer(strikes: int) -> bool:
    return strikes >= REPEAT_INFRINGER_STRIKES


def counter_notice_url(entry: StaffActionLog) -> str:
    return reverse("moderation:ip-counter-notice", kwargs={"pk": entry.pk})
