import logging
import re

from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac

from analytics.models import ProductEngagementEvent, SearchMiss, SearchMissDay

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
    source: str = "",
    query: str = "",
) -> bool:
    """Record one engagement event, at most one per visitor (`engagement_visitor`),
    product and kind per UTC day, and none from an obvious bot (when `user_agent` is
    given). Trending counts these rows, so repeating an action, or repeating it from
    fresh sessions of one address, cannot lift a listing. A CLICK carries where it came
    from (`source`) and the search typed there (`query`). Best-effort by design: any
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
                source=source,
                query=query,
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
CLICK_SOURCES = frozenset(ProductEngagementEvent.Source.values)


def normalize_query(query: str) -> str:
    """The one spelling of a search for counting: lower case, single spaces, ≤200 chars."""
    return " ".join((query or "").lower().split())[:200]


def _first_in_window(
    *,
    kind: str,
    product_id: int,
    seller_id: int,
    user,
    session_key: str,
    user_agent: str,
    client_ip: str,
) -> str | None:
    """THE counting rule of VIEW and CLICK: once per viewer (user, else client IP) per
    product per 30 minutes, never the product's own seller or an obvious bot. Needs no
    session, so a cookie-less visit writes none. The throttle is one cache `add` (no
    query; with the cache out, the daily row check of `engagement_record` still holds).
    Returns the viewer key, or None when this signal is not counted."""
    if user.is_authenticated and user.pk == seller_id:
        return None
    if not user_agent or BOT_USER_AGENT.search(user_agent):
        return None
    viewer = engagement_visitor(user=user, client_ip=client_ip, session_key=session_key)
    if not viewer:
        return None  # nothing to tell this viewer apart by
    prefix = "viewed" if kind == ProductEngagementEvent.Kind.VIEW else kind.lower()
    if not cache.add(f"{prefix}:{product_id}:{viewer}", 1, VIEW_THROTTLE_SECONDS):
        return None
    return viewer


def product_view_record(
    *,
    product_id: int,
    seller_id: int,
    user,
    session_key: str,
    user_agent: str,
    client_ip: str = "",
    source: str = "",
    query: str = "",
) -> bool:
    """A product page was opened. Records a VIEW, and a CLICK when the visitor came from
    a card grid (`source`, the link's `?src=`; `query`, the search typed there), each by
    the one counting rule (`_first_in_window`). The inserts are queued after the
    response's transaction (robust: a broker outage loses a count, never the page), so
    the page costs no insert. Returns whether a VIEW was queued."""
    from analytics.tasks import product_click_record_task, product_view_record_task

    user_id = user.pk if user.is_authenticated else None
    common = {
        "product_id": product_id,
        "seller_id": seller_id,
        "user": user,
        "session_key": session_key,
        "user_agent": user_agent,
        "client_ip": client_ip,
    }
    if source in CLICK_SOURCES:
        clicker = _first_in_window(kind=ProductEngagementEvent.Kind.CLICK, **common)
        if clicker:
            q = normalize_query(query) if source == ProductEngagementEvent.Source.SEARCH else ""
            transaction.on_commit(
                lambda: product_click_record_task.delay(
                    product_id, user_id, session_key, source, q, clicker
                ),
                robust=True,
            )
    viewer = _first_in_window(kind=ProductEngagementEvent.Kind.VIEW, **common)
    if not viewer:
        return False
    transaction.on_commit(
        lambda: product_view_record_task.delay(product_id, user_id, session_key, viewer),
        robust=True,
    )
    return True


def search_miss_record(*, query: str) -> None:
    """Count a search with no results, all-time and for today (best-effort, like every
    engagement signal)."""
    normalized = normalize_query(query)
    if not normalized:
        return
    now = timezone.now()
    try:
        with transaction.atomic():
            updated = SearchMiss.objects.filter(query=normalized).update(
                count=F("count") + 1, last_seen=now
            )
            if not updated:
                SearchMiss.objects.create(query=normalized)
            today = now.date()
            updated = SearchMissDay.objects.filter(query=normalized, day=today).update(
                count=F("count") + 1
            )
            if not updated:
                SearchMissDay.objects.create(query=normalized, day=today)
    except DatabaseError:
        logger.warning("search miss %r not recorded", normalized, exc_info=True)
