import logging
import re

from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from analytics.models import ProductEngagementEvent, SearchMiss

logger = logging.getLogger(__name__)


def engagement_record(*, product_id: int, kind: str, user=None, session_key: str = "") -> bool:
    """Record one engagement event. Best-effort by design: any database error is logged
    and swallowed (in its own savepoint), so the caller's action always goes on.
    Returns whether it was recorded."""
    try:
        with transaction.atomic():
            ProductEngagementEvent.objects.create(
                product_id=product_id,
                kind=kind,
                user=user if user is not None and user.is_authenticated else None,
                session_key=(session_key or "")[:40],
            )
        return True
    except DatabaseError:
        logger.warning("engagement %s for product %s not recorded", kind, product_id, exc_info=True)
        return False


BOT_USER_AGENT = re.compile(
    r"bot|crawl|spider|slurp|curl|wget|python-requests|httpx|headlesschrome|monitor|preview",
    re.IGNORECASE,
)
VIEW_THROTTLE_SECONDS = 30 * 60


def product_view_record(
    *, product_id: int, seller_id: int, user, session_key: str, user_agent: str
) -> bool:
    """Record a VIEW at most once per viewer per product per 30 minutes; never for the
    product's own seller or an obvious bot. The throttle is one cache `add` (no query);
    the insert itself is queued after the response's transaction. Returns whether queued."""
    if user.is_authenticated and user.pk == seller_id:
        return False
    if not user_agent or BOT_USER_AGENT.search(user_agent):
        return False
    viewer = f"u{user.pk}" if user.is_authenticated else f"s{session_key}"
    if viewer == "s":
        return False  # no session yet: nothing to tell this viewer apart by
    if not cache.add(f"viewed:{product_id}:{viewer}", 1, VIEW_THROTTLE_SECONDS):
        return False
    from analytics.tasks import product_view_record_task

    user_id = user.pk if user.is_authenticated else None
    # robust: a broker outage loses a view count, never the product page.
    transaction.on_commit(
        lambda: product_view_record_task.delay(product_id, user_id, session_key), robust=True
    )
    return True


def search_miss_record(*, query: str) -> None:
    """Count a search with no results (best-effort, like every engagement signal)."""
    normalized = " ".join(query.lower().split())[:200]
    if not normalized:
        return
    try:
        with transaction.atomic():
            updated = SearchMiss.objects.filter(query=normalized).update(
                count=F("count") + 1, last_seen=timezone.now()
            )
            if not updated:
                SearchMiss.objects.create(query=normalized)
    except DatabaseError:
        logger.warning("search miss %r not recorded", normalized, exc_info=True)
