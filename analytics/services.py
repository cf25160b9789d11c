import logging
import re

from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac

from analytics.models import ProductEngagementEvent, SearchMiss

logger = logging.getLogger(__name__)


def engagement_visitor(*, user=None, client_ip: str = "", session_key: str = "") -> str:
    """Who an engagement signal comes from, for deduplication: the signed-in user, else
    the client IP (keyed hash, never the address itself), else the session. Fresh
    sessions are free, so a script cannot become many people by dropping its cookie."""
    if user is not None and user.is_authenticated:
        return f"u{user.pk}"
    if client_ip:
        return "ip" + salted_hmac("engagement-visitor", client_ip).hexdigest()[:40]
    return f"s{session_key}" if session_key else ""


def engagement_record(
    *,
    product_id: int,
    kind: str,
    user=None,
    session_key: str = "",
    client_ip: str = "",
    user_agent: str | None = None,
    visitor: str = "",
) -> bool:
    """Record one engagement event, at most one per visitor (`engagement_visitor`),
    product and kind per UTC day, and none from an obvious bot (when `user_agent` is
    given). Trending counts these rows, so repeating an action, or repeating it from
    fresh sessions of one address, cannot lift a listing. Best-effort by design: any
    database error is logged and swallowed (in its own savepoint), so the caller's
    action always goes on. Returns whether it was recorded."""
    if user_agent is not None and (not user_agent or BOT_USER_AGENT.search(user_agent)):
        return False
    visitor = visitor or engagement_visitor(user=user, client_ip=client_ip, session_key=session_key)
    day_start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        with transaction.atomic():
            if (
                visitor
                and ProductEngagementEvent.objects.filter(
                    product_id=product_id, kind=kind, visitor=visitor, created_at__gte=day_start
                ).exists()
            ):
                return False
            ProductEngagementEvent.objects.create(
                product_id=product_id,
                kind=kind,
                user=user if user is not None and user.is_authenticated else None,
                session_key=(session_key or "")[:40],
                visitor=visitor[:64],
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
    *,
    product_id: int,
    seller_id: int,
    user,
    session_key: str,
    user_agent: str,
    client_ip: str = "",
) -> bool:
    """Record a VIEW at most once per viewer (user, else client IP) per product per 30
    minutes, and at most one row per viewer and product a day (`engagement_record`);
    never for the product's own seller or an obvious bot. Needs no session, so a
    cookie-less visit writes none. The throttle is one cache `add` (no query; with the
    cache out, the daily row check still holds); the insert is queued after the
    response's transaction. Returns whether queued."""
    if user.is_authenticated and user.pk == seller_id:
        return False
    if not user_agent or BOT_USER_AGENT.search(user_agent):
        return False
    viewer = engagement_visitor(user=user, client_ip=client_ip, session_key=session_key)
    if not viewer:
        return False  # nothing to tell this viewer apart by
    if not cache.add(f"viewed:{product_id}:{viewer}", 1, VIEW_THROTTLE_SECONDS):
        return False
    from analytics.tasks import product_view_record_task

    user_id = user.pk if user.is_authenticated else None
    # robust: a broker outage loses a view count, never the product page.
    transaction.on_commit(
        lambda: product_view_record_task.delay(product_id, user_id, session_key, viewer),
        robust=True,
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
