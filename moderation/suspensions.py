"""Suspensions: the one writer of `Suspension` and of `User.is_suspended`.

A suspended user can sign in and read, keeps what they bought, but cannot sell, post,
message, review or report (`marketplace.access.ActiveAccountRequiredMixin`); their
listings leave every public page because `catalog.selectors.PUBLIC` reads the flag.
Every change is audited (`marketplace.audit.staff_action`) and the user receives a
statement of reasons; a suspension can be appealed once.
"""

from datetime import datetime

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from catalog.search import VOCABULARY_KEY
from catalog.trending import trending_top_ids_forget
from marketplace.audit import staff_action
from marketplace.exceptions import ApplicationError
from marketplace.models import User
from marketplace.pagination import paginator_counts_forget
from moderation.models import StaffActionLog, Suspension

SUSPEND_ACTION = "user.suspend"
UNSUSPEND_ACTION = "user.unsuspend"
EXPIRE_ACTION = "user.suspension_expired"


def _public_caches_forget() -> None:
    # Listings are filtered by PUBLIC at read time; what is cached across requests is the
    # trending Top N (badges) and the search vocabulary (title words): drop both so a
    # suspended seller's words and badges go at once, not after their TTL.
    def forget() -> None:
        trending_top_ids_forget()
        cache.delete(VOCABULARY_KEY)
        paginator_counts_forget()  # a cached total of 0 would hide their listings

    transaction.on_commit(forget)


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Give a reason: the user reads it in the statement of reasons.")
    if len(reason) > 2000:
        raise ApplicationError("Keep the reason under 2000 characters.")
    return reason


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@transaction.atomic
def user_suspend(
    *, user: User, staff: User, reason: str, ends_at: datetime | None = None
) -> Suspension:
    """Suspend `user` (until `ends_at`, or until staff lift it). Locks the user row; one
    active suspension per user (a second is refused, as is suspending staff or oneself).
    Sets `is_suspended`, writes the audit row and sends the appealable statement."""
    reason = _clean_reason(reason)
    if ends_at is not None and ends_at <= timezone.now():
        raise ApplicationError("The end of the suspension must be in the future.")
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.pk == staff.pk:
        raise ApplicationError("You cannot suspend yourself.")
    if user.is_staff:
        raise ApplicationError("Staff accounts cannot be suspended; remove staff status first.")
    if Suspension.objects.filter(user=user, lifted_at__isnull=True).exists():
        raise ApplicationError("This user is already suspended.")
    try:
        with transaction.atomic():
            suspension = Suspension.objects.create(
                user=user, reason=reason, ends_at=ends_at, created_by=staff
            )
    except IntegrityError as exc:  # raced past the check: the constraint holds
        raise ApplicationError("This user is already suspended.") from exc
    User.objects.filter(pk=user.pk).update(is_suspended=True)
    until = f" until {timezone.localtime(ends_at):%d %b %Y, %H:%M}" if ends_at else ""
    staff_action(
        actor=staff,
        action=SUSPEND_ACTION,
        target=user,
        reason=reason,
        before={"is_suspended": False},
        after={"is_suspended": True, "ends_at": _when(ends_at), "suspension_id": suspension.pk},
        subject_user=user,
        statement=f"Your account is suspended{until}",
        appealable=True,
    )
    _public_caches_forget()
    return suspension


def _lift(*, user_id: int, staff: User | None, reason: str, action: str, statement: str):
    user = User.objects.select_for_update().get(pk=user_id)
    suspension = (
        Suspension.objects.select_for_update().filter(user=user, lifted_at__isnull=True).first()
    )
    if suspension is None:
        raise ApplicationError("This user is not suspended.")
    suspension.lifted_at = timezone.now()
    suspension.lifted_by = staff
    suspension.lift_reason = reason
    suspension.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
    User.objects.filter(pk=user.pk).update(is_suspended=False)
    staff_action(
        actor=staff,
        action=action,
        target=user,
        reason=reason,
        before={"is_suspended": True, "suspension_id": suspension.pk},
        after={"is_suspended": False},
        subject_user=user,
        statement=statement,
        appealable=False,
    )
    _public_caches_forget()
    return suspension


@transaction.atomic
def user_unsuspend(*, user: User, staff: User, reason: str) -> Suspension:
    """Lift `user`'s active suspension now (staff). Audited; the user is told."""
    return _lift(
        user_id=user.pk,
        staff=staff,
        reason=_clean_reason(reason),
        action=UNSUSPEND_ACTION,
        statement="Your account is no longer suspended",
    )


def suspensions_lift_expired() -> int:
    """Lift every active suspension whose end has passed (`lifted_by` empty), each in its
    own transaction; tells each user. Safe to run twice: a lifted one is skipped.
    Returns how many were lifted."""
    lifted = 0
    due = Suspension.objects.filter(lifted_at__isnull=True, ends_at__lte=timezone.now())
    for user_id in due.values_list("user_id", flat=True):
        with transaction.atomic():
            still_due = Suspension.objects.filter(
                user_id=user_id, lifted_at__isnull=True, ends_at__lte=timezone.now()
            ).exists()
            if not still_due:
                continue
            _lift(
                user_id=user_id,
                staff=None,
                reason="The suspension reached its end date.",
                action=EXPIRE_ACTION,
                statement="Your suspension has ended",
            )
            lifted += 1
    return lifted


def suspension_statement_url(user) -> str:
    """The statement of reasons of `user`'s active suspension ("" if none)."""
    if not getattr(user, "is_suspended", False):
        return ""
    entry = (
        StaffActionLog.objects.filter(subject_user=user, action=SUSPEND_ACTION)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    return reverse("moderation:statement", args=[entry]) if entry else ""
