"""Reads of product Q&A and buyer–seller threads. Every lookup is scoped to the
requester: a thread someone may not read is None (a 404 that says nothing)."""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, F, Prefetch, Q, QuerySet, When
from django.urls import reverse
from django.utils.crypto import constant_time_compare

from catalog.hooks import ProductQuestions
from catalog.models import Product
from catalog.selectors import product_queryset_public
from marketplace.models import User
from marketplace.selectors import user_has_verified_email
from messaging.hooks import OrderContext, order_context
from messaging.models import Answer, Conversation, Message, Question

QUESTIONS_PER_PAGE = 10
SELLER_QUESTIONS_PER_PAGE = 20
INBOX_PER_PAGE = 20


def public_name(user: User | None) -> str:
    """ "Ada L." from the account's name; never any part of the email address."""
    parts = ((user.name if user else "") or "").split()
    if not parts:
        return "A member"
    if len(parts) == 1:
        return parts[0]
    return f"{parts[0]} {parts[-1][0]}."


# ------------------------------------------------------------------------------
# Questions and answers
# ------------------------------------------------------------------------------
def _questions(product_id: int) -> QuerySet[Question]:
    return (
        Question.objects.filter(product_id=product_id)
        .select_related("author")
        .prefetch_related(
            Prefetch(
                "answers",
                queryset=Answer.objects.select_related("author").order_by("created_at", "id"),
            )
        )
        .order_by("-created_at", "-id")
    )


def _decorate_question(question: Question) -> Question:
    question.author_display = public_name(question.author)
    for answer in question.answers.all():
        answer.author_display = public_name(answer.author)
    return question


def questions_page(*, product: Product, page=1, per_page: int = QUESTIONS_PER_PAGE) -> Page:
    """One page of `product`'s questions, newest first, each with its answers (oldest
    first) and authors: three queries (count, page, answers), two when there are none.
    Removed questions and answers stay in place; the template shows a placeholder."""
    paginator = Paginator(_questions(product.pk), per_page)
    result = paginator.get_page(page)
    result.object_list = [_decorate_question(q) for q in result.object_list]
    return result


def question_ask_refusal(*, product: Product, user: User, verified: bool | None = None) -> str:
    """Why `user` may not ask about `product` now, or "" if they may (the service asks
    the same)."""
    if not user.is_authenticated:
        return "Sign in to ask the seller a question."
    if product.seller_id == user.pk:
        return "This is your listing: answer the questions buyers ask below."
    if user.is_suspended:
        return "Your account is suspended: you cannot ask questions."
    if verified is None:
        verified = user_has_verified_email(user)
    if not verified:
        return "Verify your email address to ask the seller a question."
    if not product.is_public:
        return "Questions open once the listing is published."
    return ""


def product_questions_section(*, product: Product, user: User, page=1) -> ProductQuestions:
    """catalog's `product questions` hook: the product page's Q&A section."""
    verified = user_has_verified_email(user) if user.is_authenticated else False
    refusal = question_ask_refusal(product=product, user=user, verified=verified)
    page_obj = questions_page(product=product, page=page)
    may_answer = user.is_authenticated and verified and not user.is_suspended
    return ProductQuestions(
        template_name="messaging/partials/product_questions.html",
        context={
            "page": page_obj,
            "questions": page_obj.object_list,
            "ask_refusal": refusal,
            "can_answer": may_answer and product.is_public,
            "is_seller": user.is_authenticated and product.seller_id == user.pk,
            "signed_in": user.is_authenticated,
            "max_length": Question._meta.get_field("body").max_length,
        },
    )


def question_get_public(*, pk: int) -> Question | None:
    """A question of a public listing (removed or not), with its product."""
    return (
        Question.objects.select_related("product")
        .filter(pk=pk, product__in=product_queryset_public())
        .first()
    )


def question_page_number(question: Question, *, per_page: int = QUESTIONS_PER_PAGE) -> int:
    """The page of its product's questions (newest first) that shows `question`."""
    newer = (
        Question.objects.filter(product_id=question.product_id)
        .filter(
            Q(created_at__gt=question.created_at)
            | Q(created_at=question.created_at, id__gt=question.pk)
        )
        .count()
    )
    return newer // per_page + 1


def question_path(question: Question) -> str:
    return reverse("messaging:question-detail", kwargs={"pk": question.pk})


def questions_waiting_for_seller(*, seller: User) -> QuerySet[Question]:
    """The seller's unanswered, not removed questions on listings that are still live,
    oldest first (the one waiting longest on top)."""
    return (
        Question.objects.filter(
            product__seller=seller,
            answered_at__isnull=True,
            removed_at__isnull=True,
            product__in=product_queryset_public(),
        )
        .select_related("product", "author")
        .order_by("created_at", "id")
    )


# ------------------------------------------------------------------------------
# Conversations
# ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ThreadAccess:
    """Who is reading a thread: `role` is "buyer", "seller", "guest" (the order's token
    holder, on the buyer's side) or "staff" (reads, never posts or marks read)."""

    conversation: Conversation
    role: str
    token: str | None = None
    order: OrderContext | None = None

    @property
    def side(self) -> str:
        return "seller" if self.role == "seller" else "buyer"

    @property
    def may_post(self) -> bool:
        return self.role != "staff"


def _conversations() -> QuerySet[Conversation]:
    return Conversation.objects.select_related("buyer", "seller__seller_profile", "product")


def conversation_for_viewer(*, pk: int, user: User, token: str | None) -> ThreadAccess | None:
    """The thread `pk` if this requester may read it: its buyer or seller (signed in),
    anyone holding the access token of the thread's order (ORDER threads; compared in
    constant time), or staff. Otherwise None."""
    conversation = _conversations().filter(pk=pk).first()
    if conversation is None:
        return None
    context = None
    if conversation.order_id:
        context = order_context(order_id=conversation.order_id, seller_id=conversation.seller_id)
    if user.is_authenticated and conversation.seller_id == user.pk:
        return ThreadAccess(conversation, "seller", order=context)
    if user.is_authenticated and conversation.buyer_id == user.pk:
        return ThreadAccess(conversation, "buyer", order=context)
    if (
        token
        and context is not None
        and context.access_token
        and constant_time_compare(token, context.access_token)
    ):
        return ThreadAccess(conversation, "guest", token=token, order=context)
    if user.is_authenticated and user.is_staff:
        return ThreadAccess(conversation, "staff", order=context)
    return None


def conversation_find(
    *,
    subject: str,
    seller: User,
    buyer: User | None = None,
    buyer_email: str = "",
    order_id: int | None = None,
    product: Product | None = None,
) -> Conversation | None:
    """The one existing thread for (buyer, seller, subject), or None."""
    threads = Conversation.objects.filter(subject=subject, seller=seller)
    if buyer is not None:
        threads = threads.filter(buyer=buyer)
    else:
        threads = threads.filter(buyer__isnull=True, buyer_email__iexact=buyer_email)
    if subject == Conversation.Subject.ORDER:
        threads = threads.filter(order_id=order_id)
    elif subject == Conversation.Subject.LISTING:
        threads = threads.filter(product=product)
    return threads.first()


def thread_messages(conversation: Conversation, *, reader: ThreadAccess) -> list[Message]:
    """The thread's messages, oldest first, with senders (one query). Each carries
    `from_seller` and `mine` (written by `reader`; never for staff)."""
    items = list(conversation.messages.select_related("sender").order_by("created_at", "id"))
    for message in items:
        message.from_seller = bool(message.sender_id) and (
            message.sender_id == conversation.seller_id
        )
        message.mine = reader.role != "staff" and ((reader.side == "seller") == message.from_seller)
    return items


def _my_read_at(user: User):
    return Case(When(seller_id=user.pk, then=F("seller_read_at")), default=F("buyer_read_at"))


def inbox_for_user(*, user: User) -> QuerySet[Conversation]:
    """`user`'s threads (as buyer or seller) that have a message, latest activity first,
    each with `unread` = messages from the other side since they last opened it. One
    query per page (plus the count)."""
    others = Q(messages__sender__isnull=True) | ~Q(messages__sender_id=user.pk)
    since = Q(my_read_at__isnull=True) | Q(messages__created_at__gt=F("my_read_at"))
    return (
        _conversations()
        .filter(Q(buyer=user) | Q(seller=user), last_message_at__isnull=False)
        .annotate(my_read_at=_my_read_at(user))
        .annotate(unread=Count("messages", filter=others & since))
        .order_by("-last_message_at", "-id")
    )


def unread_thread_count(*, user: User) -> int:
    """How many of `user`'s threads have a message from the other side they have not
    opened since (the header's badge). One query; 0 without one for visitors.

    A sender's own read marker moves when they post, so "last message after my marker"
    means the other side wrote."""
    if not user.is_authenticated:
        return 0
    as_buyer = Q(buyer=user) & (
        Q(buyer_read_at__isnull=True) | Q(last_message_at__gt=F("buyer_read_at"))
    )
    as_seller = Q(seller=user) & (
        Q(seller_read_at__isnull=True) | Q(last_message_at__gt=F("seller_read_at"))
    )
    return Conversation.objects.filter(as_buyer | as_seller, last_message_at__isnull=False).count()


def conversation_title(conversation: Conversation) -> str:
    """What the thread is about, in words: "Order #12", a listing's title, "The shop"."""
    if conversation.subject == Conversation.Subject.ORDER:
        return f"Order #{conversation.order_id}"
    if conversation.subject == Conversation.Subject.LISTING:
        return conversation.product.title if conversation.product else "A listing (removed)"
    return "General question about the shop"


def counterpart_name(conversation: Conversation, *, side: str) -> str:
    """The other party as the reader sees them: the shop's name for the buyer, the
    buyer's public name (or "Guest buyer") for the seller and staff."""
    if side == "buyer":
        profile = getattr(conversation.seller, "seller_profile", None)
        return profile.display_name if profile else public_name(conversation.seller)
    if conversation.buyer_id is None:
        return "Guest buyer"
    return public_name(conversation.buyer)


def conversation_path(conversation: Conversation, *, token: str | None = None) -> str:
    path = reverse("messaging:thread", kwargs={"pk": conversation.pk})
    return f"{path}?t={token}" if token else path
