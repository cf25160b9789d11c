"""Trending: one score per listing over SiteConfig's window.

score = Σ over the window of weight(signal) × decay(age bucket)
  signals: a paid order line (×quantity) 10, a review 6, add-to-cart 3, click 1.5, view 1
  decay by age: under 1 day 1.0, 1–3 days 0.7, 3–7 days 0.45, older (still in the window) 0.2

The recompute is set-based: one UPDATE whose value is a correlated subquery per signal
(indexed on product, kind, created_at), so the database does the work for every product
at once; no Python loop over products. It lives here, at the top layer, because it reads
engagement events (analytics), paid order lines (orders) and reviews (catalog); it writes
the catalog's own `Product.trending_score`, and the badge rule stays in
`catalog.trending`.
"""

from datetime import timedelta

from django.db import connection
from django.db.models import (
    Case,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from analytics.models import ProductEngagementEvent
from catalog.models import Product
from catalog.trending import trending_top_ids_forget
from marketplace.selectors import site_config_get
from orders.models import Order, OrderItem

# `Order.WAS_PAID` as SQL literals (module constants, no user input): one rule of "paid".
PAID_STATUSES_SQL = ", ".join(f"'{status}'" for status in Order.WAS_PAID)

WEIGHTS = {"PURCHASE": 10.0, "REVIEW": 6.0, "ADD_TO_CART": 3.0, "CLICK": 1.5, "VIEW": 1.0}
DECAY = [(timedelta(days=1), 1.0), (timedelta(days=3), 0.7), (timedelta(days=7), 0.45)]
OLDER = 0.2
TOP_IDS_CACHE_KEY = "catalog:trending:top-ids:v1"


def _decay(field: str, now) -> Case:
    return Case(
        *[When(**{f"{field}__gte": now - age}, then=Value(weight)) for age, weight in DECAY],
        default=Value(OLDER),
        output_field=FloatField(),
    )


def _weighted_sum(queryset, *, time_field: str, now, per_row=None) -> Subquery:
    amount = _decay(time_field, now)
    if per_row is not None:
        amount = ExpressionWrapper(amount * per_row, output_field=FloatField())
    return Subquery(
        queryset.values("product_id")
        .annotate(total=Sum(amount, output_field=FloatField()))
        .values("total")[:1],
        output_field=FloatField(),
    )


def trending_recompute(*, now=None) -> int:
    """Recompute `trending_score` for every product in one statement. Idempotent.
    Returns the number of products updated."""
    now = now or timezone.now()
    start = now - timedelta(days=site_config_get().trending_window_days)
    if connection.vendor == "postgresql":
        updated = _recompute_postgres(now=now, start=start)
        trending_top_ids_forget()
        return updated
    events = ProductEngagementEvent.objects.filter(product_id=OuterRef("pk"), created_at__gte=start)
    # One pass over a product's events for all three kinds: weight × decay per row.
    kind_weight = Case(
        *[When(kind=kind, then=Value(WEIGHTS[kind])) for kind in ("VIEW", "CLICK", "ADD_TO_CART")],
        default=Value(0.0),
        output_field=FloatField(),
    )
    signals = [
        Coalesce(
            _weighted_sum(events, time_field="created_at", now=now, per_row=kind_weight),
            Value(0.0),
        )
    ]
    purchases = OrderItem.objects.filter(
        product_id=OuterRef("pk"),
        order__status__in=Order.WAS_PAID,
        order__paid_at__gte=start,
        refunded_at__isnull=True,
    )
    signals.append(
        WEIGHTS["PURCHASE"]
        * Coalesce(
            _weighted_sum(purchases, time_field="order__paid_at", now=now, per_row=F("quantity")),
            Value(0.0),
        )
    )
    review_model = _review_model()
    if review_model is not None:
        reviews = review_model.objects.filter(product_id=OuterRef("pk"), created_at__gte=start)
        signals.append(
            WEIGHTS["REVIEW"]
            * Coalesce(_weighted_sum(reviews, time_field="created_at", now=now), Value(0.0))
        )
    score = signals[0]
    for signal in signals[1:]:
        score = score + signal
    updated = Product.objects.update(trending_score=ExpressionWrapper(score, FloatField()))
    trending_top_ids_forget()
    return updated


def _recompute_postgres(*, now, start) -> int:
    """The same score as the ORM path, as one statement that reads each table once
    (GROUP BY product) instead of one correlated subquery per listing: 1M events in a
    few seconds. Only rows whose score changed are written."""
    bounds = [now - age for age, _ in DECAY]

    def decay(column: str) -> str:
        cases = " ".join(f"WHEN {column} >= %s THEN {weight}" for _, weight in DECAY)
        return f"(CASE {cases} ELSE {OLDER} END)"

    kinds = " ".join(f"WHEN '{k}' THEN {WEIGHTS[k]}" for k in ("VIEW", "CLICK", "ADD_TO_CART"))
    parts = [
        f"""SELECT product_id, SUM((CASE kind {kinds} ELSE 0 END) * {decay("created_at")}) AS s
            FROM analytics_productengagementevent WHERE created_at >= %s GROUP BY product_id""",
        f"""SELECT oi.product_id, SUM({WEIGHTS["PURCHASE"]} * oi.quantity * {decay("o.paid_at")})
            FROM orders_orderitem oi JOIN orders_order o ON o.id = oi.order_id
            WHERE o.status IN ({PAID_STATUSES_SQL})
              AND oi.refunded_at IS NULL AND o.paid_at >= %s GROUP BY oi.product_id""",
    ]
    params = [*bounds, start, *bounds, start]
    if _review_model() is not None:
        parts.append(
            f"""SELECT product_id, SUM({WEIGHTS["REVIEW"]} * {decay("created_at")})
                FROM catalog_review WHERE created_at >= %s GROUP BY product_id"""
        )
        params += [*bounds, start]
    signals = " UNION ALL ".join(f"({part})" for part in parts)
    sql = f"""
        WITH signals(product_id, s) AS ({signals}),
             totals AS (SELECT product_id, SUM(s) AS score FROM signals GROUP BY product_id)
        UPDATE catalog_product p
           SET trending_score = COALESCE(t.score, 0)
          FROM catalog_product q LEFT JOIN totals t ON t.product_id = q.id
         WHERE p.id = q.id AND p.trending_score IS DISTINCT FROM COALESCE(t.score, 0)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _review_model():
    from django.apps import apps

    try:
        return apps.get_model("catalog", "Review")
    except LookupError:  # reviews arrive with their own migration
        return None
