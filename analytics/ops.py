"""The staff Admin Ops page: what needs a person now, read from every app's models and
selectors. Reads only, each block a bounded number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from marketplace.models import User
from messaging.models import EmailLog
from moderation.models import Report
from payments.models import StripeEvent
from payments.selectors import (
    disputes_open,
    marketplace_totals,
    sellers_holding_balance,
    sellers_owing,
    transfers_failed,
)
from refunds.models import RefundRequest

STUCK_AFTER = timedelta(minutes=10)  # as `stripe_events_replay` treats a lost task
LIST_LIMIT = 20
HISTOGRAM_ROW_CAP = 20_000

# Upper bounds in seconds; the last bucket is open-ended.
LATENCY_BUCKETS = [
    (1, "< 1 s"),
    (5, "1–5 s"),
    (30, "5–30 s"),
    (300, "30 s–5 min"),
    (None, "> 5 min"),
]


def latency_bucket(seconds: float) -> int:
    """The index in LATENCY_BUCKETS of a delay (a bucket includes its lower bound)."""
    for i, (upper, _label) in enumerate(LATENCY_BUCKETS):
        if upper is not None and seconds < upper:
            return i
    return len(LATENCY_BUCKETS) - 1


def _reverse_or_none(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def failed_emails() -> dict:
    """FAILED emails: the count, the latest rows, and where to retry them — the staff
    email page when it exists, else the admin list of EmailLog when registered."""
    rows = EmailLog.objects.filter(status=EmailLog.Status.FAILED)
    return {
        "count": rows.count(),
        "latest": list(rows.order_by("-created_at")[:LIST_LIMIT]),
        "retry_url": _reverse_or_none("messaging:staff-emails"),
        "admin_url": _reverse_or_none("admin:messaging_emaillog_changelist"),
    }


def payout_backlog() -> dict:
    """Balances owed and not transferred (and who of them cannot be paid yet), failed
    transfers with their error, and negative balances."""
    holding = sellers_holding_balance()
    return {
        "holding": holding,
        "not_ready": [h for h in holding if not h["ready"]],
        "failed_transfers": transfers_failed(limit=LIST_LIMIT),
        "negative": sellers_owing(),
    }


def _latency_histograms(*, since: datetime) -> list[dict]:
    """Stripe created → received, received → processed and created → processed, over
    events received since `since` (at most HISTOGRAM_ROW_CAP rows, newest first)."""
    names = ("Stripe → received", "received → processed", "Stripe → processed")
    counts = [[0] * len(LATENCY_BUCKETS) for _ in names]
    rows = (
        StripeEvent.objects.filter(received_at__gte=since)
        .order_by("-received_at")
        .values_list("payload__created", "received_at", "processed_at")[:HISTOGRAM_ROW_CAP]
    )
    for created, received, processed in rows:
        stripe_at = None
        if isinstance(created, int | float):
            stripe_at = datetime.fromtimestamp(created, tz=UTC)
        pairs = (
            (stripe_at, received),
            (received, processed),
            (stripe_at, processed),
        )
        for i, (a, b) in enumerate(pairs):
            if a is not None and b is not None:
                counts[i][latency_bucket(max((b - a).total_seconds(), 0))] += 1
    return [
        {
            "name": name,
            "buckets": [
                {"label": label, "count": counts[i][j]}
                for j, (_upper, label) in enumerate(LATENCY_BUCKETS)
            ],
            "total": sum(counts[i]),
        }
        for i, name in enumerate(names)
    ]


def webhook_health(*, since: datetime) -> dict:
    """Events by status (all time), the stuck (RECEIVED for over 10 minutes) and FAILED
    ones with their error, and the latency histograms over events received since."""
    now = timezone.now()
    by_status = dict(
        StripeEvent.objects.values("status").annotate(n=Count("id")).values_list("status", "n")
    )
    return {
        "by_status": [
            {"status": value, "label": label, "count": by_status.get(value, 0)}
            for value, label in StripeEvent.Status.choices
        ],
        "failed": list(
            StripeEvent.objects.filter(status=StripeEvent.Status.FAILED).order_by("-received_at")[
                :LIST_LIMIT
            ]
        ),
        "stuck": list(
            StripeEvent.objects.filter(
                status=StripeEvent.Status.RECEIVED, received_at__lte=now - STUCK_AFTER
            ).order_by("received_at")[:LIST_LIMIT]
        ),
        "histograms": _latency_histograms(since=since),
    }


REFUND_AGE_BUCKETS = [(1, "under a day"), (3, "1–3 days"), (7, "3–7 days"), (None, "over a week")]


def refunds_waiting() -> dict:
    """Refund requests waiting for a decision (REQUESTED) or for money (APPROVED,
    FAILED), counted by age, and the oldest few."""
    waiting = RefundRequest.objects.filter(
        status__in=[
            RefundRequest.Status.REQUESTED,
            RefundRequest.Status.APPROVED,
            RefundRequest.Status.FAILED,
        ]
    )
    now = timezone.now()
    counts = [0] * len(REFUND_AGE_BUCKETS)
    for created in waiting.values_list("created_at", flat=True)[:HISTOGRAM_ROW_CAP]:
        age_days = (now - created).total_seconds() / 86400
        for i, (upper, _label) in enumerate(REFUND_AGE_BUCKETS):
            if upper is None or age_days < upper:
                counts[i] += 1
                break
    return {
        "by_age": [
            {"label": label, "count": counts[i]} for i, (_u, label) in enumerate(REFUND_AGE_BUCKETS)
        ],
        "total": sum(counts),
        "oldest": list(waiting.select_related("order_item").order_by("created_at")[:LIST_LIMIT]),
    }


def trust_and_safety() -> dict:
    return {
        "open_reports": Report.objects.filter(status=Report.Status.OPEN).count(),
        "suspended_users": User.objects.filter(is_suspended=True).count(),
        # The moderation queue when it exists, else the admin's list of reports.
        "queue_url": _reverse_or_none("moderation:staff-queue")
        or _reverse_or_none("admin:moderation_report_changelist"),
        "suspensions_url": _reverse_or_none("admin:moderation_suspension_changelist"),
    }


@dataclass(frozen=True)
class OpsWindow:
    days: int

    @property
    def since(self) -> datetime:
        return timezone.now() - timedelta(days=self.days)


OPS_WINDOWS = (1, 7, 30, 90)


def admin_ops(*, days: int) -> dict:
    """Everything on the Admin Ops page; `days` is the window of the histogram and the
    marketplace totals."""
    window = OpsWindow(days=days)
    return {
        "days": days,
        "windows": OPS_WINDOWS,
        "emails": failed_emails(),
        "payouts": payout_backlog(),
        "webhooks": webhook_health(since=window.since),
        "disputes": disputes_open(),
        "refunds": refunds_waiting(),
        "trust": trust_and_safety(),
        "totals": marketplace_totals(start=window.since, end=timezone.now()),
    }
