from celery import shared_task

from analytics.models import ProductEngagementEvent
from analytics.services import engagement_record


@shared_task(ignore_result=True)
def product_view_record_task(
    product_id: int, user_id: int | None, session_key: str, visitor: str = ""
) -> None:
    """Thin wrapper: one VIEW row (best-effort; the service swallows DB errors)."""
    from marketplace.models import User

    user = User.objects.filter(pk=user_id).first() if user_id else None
    engagement_record(
        product_id=product_id,
        kind=ProductEngagementEvent.Kind.VIEW,
        user=user,
        session_key=session_key,
        visitor=visitor,
    )


@shared_task(ignore_result=True)
def product_click_record_task(
    product_id: int,
    user_id: int | None,
    session_key: str,
    source: str,
    query: str,
    visitor: str = "",
) -> None:
    """Thin wrapper: one CLICK row with where it came from (best-effort)."""
    from marketplace.models import User

    user = User.objects.filter(pk=user_id).first() if user_id else None
    engagement_record(
        product_id=product_id,
        kind=ProductEngagementEvent.Kind.CLICK,
        user=user,
        session_key=session_key,
        source=source,
        query=query,
        visitor=visitor,
    )


@shared_task(ignore_result=True)
def trending_recompute_task() -> int:
    """Beat job: recompute every product's trending score (set-based SQL)."""
    from analytics.trending import trending_recompute

    return trending_recompute()
