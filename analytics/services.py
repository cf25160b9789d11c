import logging

from django.db import DatabaseError, transaction

from analytics.models import ProductEngagementEvent

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
