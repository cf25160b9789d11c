from catalog.hooks import ReviewReports
from catalog.models import Product
from marketplace.models import User
from moderation.models import Report, report_reason_choices


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


def ip_strikes(user_ids) -> dict[int, int]:
    """{seller id: upheld IP takedowns} (see `moderation.ip`); the queue and the admin flag
    sellers at `moderation.ip.REPEAT_INFRINGER_STRIKES` or more."""
    from moderation.ip import ip_strikes as _ip_strikes

    return _ip_strikes(user_ids)
