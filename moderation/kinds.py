"""What each kind of report points at, in one registry.

For every `Report.Kind` that targets content: how to load the target for a reporter
(only things they can see: public listings, visible reviews and Q&A, messages of their
own conversations), whose it is (`subject`), what staff see of it (`preview`, `staff_url`),
and how staff remove it and undo that (soft delete: the thread keeps a placeholder).
The views, the queue and the appeal reversal all go through here, so adding a kind is
one entry.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from catalog.models import Product, Review
from catalog.reviews import review_set_hidden
from catalog.selectors import PUBLIC
from catalog.services import product_take_down, product_take_down_lift
from marketplace.audit import staff_action
from marketplace.models import User
from messaging.models import Answer, Message, Question
from moderation.models import Report

PREVIEW_CHARS = 600


@dataclass(frozen=True)
class Reporter:
    """Who reports: a signed-in user, or a guest holding an order's token (`order`)."""

    user: User | None = None
    order: Any = None

    @property
    def email(self) -> str:
        return self.order.email if self.order is not None and self.user is None else ""


@dataclass(frozen=True)
class ReportKind:
    code: str
    noun: str  # "listing", "question"… for "Report this <noun>"
    load: Callable[[int, Reporter], Any]  # the target if this reporter may report it
    load_any: Callable[[list[int]], dict[int, Any]]  # staff: every target, even removed
    subject: Callable[[Any], User | None]
    preview: Callable[[Any], str]
    staff_url: Callable[[Any], str]
    is_removed: Callable[[Any], bool]
    remove: Callable[..., Any] | None  # (obj, staff, reason) → audited removal
    restore: Callable[..., Any] | None  # (obj, staff, reason) → audited undo
    remove_label: str = "Remove"
    guests: bool = False  # a guest with an order token may report this kind
    reasons: tuple[str, ...] = field(
        default=("SPAM", "OFFENSIVE", "OFF_TOPIC", "FAKE", "PERSONAL", "PROHIBITED", "OTHER")
    )


def _by_pk(queryset, ids) -> dict[int, Any]:
    return {obj.pk: obj for obj in queryset.filter(pk__in=ids)}


def _soft_remove(model, action: str, noun: str):
    """Removal of a Question/Answer/Message: `removed_at` stamped, audited, appealable."""

    def remove(obj, *, staff: User, reason: str):
        row = model.objects.select_for_update().get(pk=obj.pk)
        if row.removed_at is not None:
            return row
        row.removed_at = timezone.now()
        row.save(update_fields=["removed_at"])
        staff_action(
            actor=staff,
            action=f"{action}.remove",
            target=row,
            reason=reason,
            before={"removed_at": None, "body": row.body[:500]},
            after={"removed_at": row.removed_at.isoformat()},
            subject_user=_author(row),
            statement=f"Your {noun} was removed",
            appealable=True,
        )
        return row

    def restore(obj, *, staff: User, reason: str):
        row = model.objects.select_for_update().get(pk=obj.pk)
        if row.removed_at is None:
            return row
        before = {"removed_at": row.removed_at.isoformat()}
        row.removed_at = None
        row.save(update_fields=["removed_at"])
        staff_action(
            actor=staff,
            action=f"{action}.restore",
            target=row,
            reason=reason,
            before=before,
            after={"removed_at": None},
            subject_user=_author(row),
            statement=f"Your {noun} is back",
        )
        return row

    return remove, restore


def _author(obj) -> User | None:
    return getattr(obj, "author", None) or getattr(obj, "sender", None)


# -- listings -----------------------------------------------------------------------
def _listing_load(pk: int, reporter: Reporter):
    return Product.objects.select_related("seller").filter(PUBLIC, pk=pk).first()


def _listing_remove(obj, *, staff: User, reason: str):
    return product_take_down(product=obj, reason=reason, staff=staff)


def _listing_restore(obj, *, staff: User, reason: str):
    return product_take_down_lift(product=obj, reason=reason, staff=staff)


def _listing_preview(p: Product) -> str:
    return f"{p.title}\n\n{Truncator(p.description).chars(PREVIEW_CHARS)}"


_listing = dict(
    load_any=lambda ids: _by_pk(Product.objects.select_related("seller"), ids),
    subject=lambda p: p.seller,
    preview=_listing_preview,
    staff_url=lambda p: p.get_absolute_url(),
    is_removed=lambda p: p.is_taken_down,
    remove=_listing_remove,
    restore=_listing_restore,
    remove_label="Take the listing down",
)

# -- questions and answers ----------------------------------------------------------
_q_remove, _q_restore = _soft_remove(Question, "question", "question")
_a_remove, _a_restore = _soft_remove(Answer, "answer", "answer")
_m_remove, _m_restore = _soft_remove(Message, "message", "message")


def _question_load(pk: int, reporter: Reporter):
    return (
        Question.objects.select_related("product", "author")
        .filter(pk=pk, removed_at__isnull=True, product__in=Product.objects.filter(PUBLIC))
        .first()
    )


def _answer_load(pk: int, reporter: Reporter):
    return (
        Answer.objects.select_related("question__product", "author")
        .filter(
            pk=pk,
            removed_at__isnull=True,
            question__removed_at__isnull=True,
            question__product__in=Product.objects.filter(PUBLIC),
        )
        .first()
    )


def _qa_url(product: Product) -> str:
    return f"{product.get_absolute_url()}#questions"


# -- messages -----------------------------------------------------------------------
def _message_load(pk: int, reporter: Reporter):
    """Only a participant's own conversation: its buyer or seller, or the guest holding
    the token of the conversation's order."""
    messages = Message.objects.select_related("conversation", "sender").filter(
        pk=pk, removed_at__isnull=True
    )
    if reporter.user is not None:
        messages = messages.filter(
            Q(conversation__buyer=reporter.user) | Q(conversation__seller=reporter.user)
        )
    elif reporter.order is not None:
        messages = messages.filter(
            conversation__order=reporter.order,
            conversation__buyer__isnull=True,
            conversation__buyer_email__iexact=reporter.order.email,
        )
    else:
        return None
    return messages.first()


# -- reviews ------------------------------------------------------------------------
def _review_load(pk: int, reporter: Reporter):
    return (
        Review.objects.select_related("product", "author")
        .filter(pk=pk, is_hidden=False, product__in=Product.objects.filter(PUBLIC))
        .first()
    )


def _review_remove(obj, *, staff: User, reason: str):
    review = review_set_hidden(review=obj, hidden=True)
    staff_action(
        actor=staff,
        action="review.hide",
        target=review,
        reason=reason,
        before={"is_hidden": False},
        after={"is_hidden": True},
        subject_user=review.author,
        statement=f"Your review of “{review.product.title}” was removed",
        appealable=True,
    )
    return review


def _review_restore(obj, *, staff: User, reason: str):
    review = review_set_hidden(review=obj, hidden=False)
    staff_action(
        actor=staff,
        action="review.restore",
        target=review,
        reason=reason,
        before={"is_hidden": True},
        after={"is_hidden": False},
        subject_user=review.author,
        statement=f"Your review of “{review.product.title}” is back",
    )
    return review


# -- users --------------------------------------------------------------------------
def _user_load(pk: int, reporter: Reporter):
    return User.objects.filter(pk=pk, is_active=True, is_staff=False).first()


def _user_label(u: User) -> str:
    profile = getattr(u, "seller_profile", None)
    shop = f" — shop “{profile.display_name}”" if profile else ""
    return f"{u.name or u.email}{shop}"


def _user_url(u: User) -> str:
    return reverse("admin:marketplace_user_change", args=[u.pk])


KINDS: dict[str, ReportKind] = {
    Report.Kind.LISTING: ReportKind(
        code=Report.Kind.LISTING, noun="listing", load=_listing_load, guests=True, **_listing
    ),
    # An IP notice names a listing (target_id = the product); the public form that files
    # it belongs to another part of the site. Staff act on it like on a listing report.
    Report.Kind.IP: ReportKind(
        code=Report.Kind.IP,
        noun="listing",
        load=_listing_load,
        reasons=("IP",),
        **_listing,
    ),
    Report.Kind.QUESTION: ReportKind(
        code=Report.Kind.QUESTION,
        noun="question",
        load=_question_load,
        load_any=lambda ids: _by_pk(Question.objects.select_related("product", "author"), ids),
        subject=lambda q: q.author,
        preview=lambda q: f"On “{q.product.title}”:\n\n{q.body}",
        staff_url=lambda q: _qa_url(q.product),
        is_removed=lambda q: q.removed_at is not None,
        remove=_q_remove,
        restore=_q_restore,
        remove_label="Remove the question",
    ),
    Report.Kind.ANSWER: ReportKind(
        code=Report.Kind.ANSWER,
        noun="answer",
        load=_answer_load,
        load_any=lambda ids: _by_pk(
            Answer.objects.select_related("question__product", "author"), ids
        ),
        subject=lambda a: a.author,
        preview=lambda a: f"On “{a.question.product.title}”:\n\n{a.body}",
        staff_url=lambda a: _qa_url(a.question.product),
        is_removed=lambda a: a.removed_at is not None,
        remove=_a_remove,
        restore=_a_restore,
        remove_label="Remove the answer",
    ),
    Report.Kind.MESSAGE: ReportKind(
        code=Report.Kind.MESSAGE,
        noun="message",
        load=_message_load,
        load_any=lambda ids: _by_pk(Message.objects.select_related("conversation", "sender"), ids),
        subject=lambda m: m.sender,
        preview=lambda m: m.body,
        staff_url=lambda m: (
            reverse("admin:messaging_message_change", args=[m.pk])
            if _admin_has("messaging", "message")
            else ""
        ),
        is_removed=lambda m: m.removed_at is not None,
        remove=_m_remove,
        restore=_m_restore,
        remove_label="Remove the message",
        guests=True,
    ),
    Report.Kind.REVIEW: ReportKind(
        code=Report.Kind.REVIEW,
        noun="review",
        load=_review_load,
        load_any=lambda ids: _by_pk(Review.objects.select_related("product", "author"), ids),
        subject=lambda r: r.author,
        preview=lambda r: f"{r.rating}★ on “{r.product.title}”:\n\n{r.body}",
        staff_url=lambda r: f"{r.product.get_absolute_url()}#review-{r.pk}",
        is_removed=lambda r: r.is_hidden,
        remove=_review_remove,
        restore=_review_restore,
        remove_label="Hide the review",
        reasons=Report.REVIEW_REASONS,
    ),
    Report.Kind.USER: ReportKind(
        code=Report.Kind.USER,
        noun="user",
        load=_user_load,
        load_any=lambda ids: _by_pk(User.objects.select_related("seller_profile"), ids),
        subject=lambda u: u,
        preview=_user_label,
        staff_url=_user_url,
        is_removed=lambda u: u.is_suspended,
        remove=None,  # users are suspended (with an end date), see the queue
        restore=None,
        reasons=("SPAM", "OFFENSIVE", "FAKE", "PERSONAL", "PROHIBITED", "OTHER"),
    ),
}

# Kinds a person may report from the site (appeals and IP notices have their own forms).
REPORTABLE = tuple(code for code in KINDS if code not in (Report.Kind.IP, Report.Kind.APPEAL))

# What an audited action's target is, back to its kind (appeal reversal).
ACTION_KINDS = {
    "listing.take_down": Report.Kind.LISTING,
    "question.remove": Report.Kind.QUESTION,
    "answer.remove": Report.Kind.ANSWER,
    "message.remove": Report.Kind.MESSAGE,
    "review.hide": Report.Kind.REVIEW,
}


def _admin_has(app_label: str, model: str) -> bool:
    from django.contrib import admin

    return any(
        m._meta.app_label == app_label and m._meta.model_name == model for m in admin.site._registry
    )


def kind_get(code: str) -> ReportKind | None:
    return KINDS.get((code or "").upper())
