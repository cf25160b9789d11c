"""Writes of what people post: product questions and answers, and buyer–seller
messages (with their notifications). Email goes through `messaging.services.email_send`."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from marketplace.exceptions import ApplicationError
from messaging.models import Answer, Conversation, EmailLog, Message, Question
from messaging.services import email_send

QUESTION_MAX_CHARS = 2000
ANSWER_MAX_CHARS = 2000
MESSAGE_MAX_CHARS = 4000


# ------------------------------------------------------------------------------
# Product questions and answers
# ------------------------------------------------------------------------------
def _clean_body(body: str, *, limit: int, what: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ApplicationError(f"Write your {what} first.")
    if len(body) > limit:
        raise ApplicationError(f"Your {what} is {len(body):,} characters; the limit is {limit:,}.")
    return body


def _require_active(user) -> None:
    if user.is_suspended:
        raise ApplicationError("Your account is suspended: you cannot post.")


@transaction.atomic
def question_ask(*, product, author, body: str) -> Question:
    """`author` asks the seller of `product` a public question.

    Guarantees: the listing is public, the author is not its seller and not suspended
    (verification is the view's rule), the body is 1–2000 characters. The seller is
    emailed and notified once the question is committed (keyed, so never twice)."""
    from catalog.selectors import product_queryset_public

    _require_active(author)
    if not product_queryset_public().filter(pk=product.pk).exists():
        raise ApplicationError("This listing is not open for questions.")
    if product.seller_id == author.pk:
        raise ApplicationError("This is your listing: you answer questions, you don't ask them.")
    question = Question(
        product=product,
        author=author,
        body=_clean_body(body, limit=QUESTION_MAX_CHARS, what="question"),
    )
    question.full_clean()
    question.save()
    _after_commit("question_new", question.pk)
    return question


@transaction.atomic
def answer_post(*, question: Question, author, body: str) -> Answer:
    """`author` answers `question`: as the seller (`is_seller`) when they sell the
    listing, otherwise as another member. The seller's first answer stamps
    `question.answered_at` (under a row lock), which takes it off their waiting list.

    Guarantees: the question is not removed and its listing is public, the author is not
    suspended, the body is 1–2000 characters. The asker is emailed and notified (not when
    they answer themselves)."""
    from catalog.selectors import product_queryset_public

    _require_active(author)
    locked = Question.objects.select_for_update().get(pk=question.pk)
    if locked.removed_at is not None:
        raise ApplicationError("This question was removed; it cannot be answered.")
    if not product_queryset_public().filter(pk=locked.product_id).exists():
        raise ApplicationError("This listing is not open for questions.")
    is_seller = locked.product.seller_id == author.pk
    answer = Answer(
        question=locked,
        author=author,
        is_seller=is_seller,
        body=_clean_body(body, limit=ANSWER_MAX_CHARS, what="answer"),
    )
    answer.full_clean()
    answer.save()
    if is_seller and locked.answered_at is None:
        locked.answered_at = timezone.now()
        locked.save(update_fields=["answered_at"])
    if author.pk != locked.author_id:
        _after_commit("question_answered", answer.pk)
    return answer


def question_new_notify(*, question_id: int) -> EmailLog:
    """Email (and notify in-app) the seller about a new question. Keyed by question."""
    from messaging.post_selectors import public_name, question_path

    question = Question.objects.select_related("product__seller", "author").get(pk=question_id)
    seller = question.product.seller
    return email_send(
        key=f"question-new-{question.pk}",
        to=seller.email,
        template="messaging/emails/question_new",
        context={
            "question": question,
            "product": question.product,
            "asker": public_name(question.author),
            "notification_user": seller,
            "notification_url": question_path(question),
            "waiting_path": reverse("messaging:seller-question-list"),
        },
    )


def question_answered_notify(*, answer_id: int) -> EmailLog:
    """Email (and notify in-app) the asker that their question has an answer."""
    from messaging.post_selectors import public_name, question_path

    answer = Answer.objects.select_related("question__product", "question__author", "author").get(
        pk=answer_id
    )
    question = answer.question
    return email_send(
        key=f"question-answered-{answer.pk}",
        to=question.author.email,
        template="messaging/emails/question_answered",
        context={
            "question": question,
            "answer": answer,
            "product": question.product,
            "answerer": "The seller" if answer.is_seller else public_name(answer.author),
            "notification_user": question.author,
            "notification_url": question_path(question),
        },
    )


# ------------------------------------------------------------------------------
# Buyer–seller conversations
# ------------------------------------------------------------------------------
@transaction.atomic
def conversation_get_or_start(
    *,
    subject: str,
    seller,
    buyer=None,
    buyer_email: str = "",
    order_id: int | None = None,
    product=None,
) -> tuple[Conversation, bool]:
    """The one thread for (buyer, seller, subject), created if there is none.

    `buyer` is an account, or None for a guest buyer known by `buyer_email` (ORDER
    threads only). The unique constraints make a concurrent second start find the
    first thread instead of making another. The caller has authorized both parties."""
    from messaging.post_selectors import conversation_find

    if buyer is not None and buyer.pk == seller.pk:
        raise ApplicationError("You cannot message yourself.")
    if buyer is None and (subject != Conversation.Subject.ORDER or not buyer_email):
        raise ApplicationError("Only an order's guest buyer writes without an account.")
    lookup = {
        "subject": subject,
        "seller": seller,
        "buyer": buyer,
        "buyer_email": (buyer_email or "").lower(),
        "order_id": order_id if subject == Conversation.Subject.ORDER else None,
        "product": product if subject == Conversation.Subject.LISTING else None,
    }
    existing = conversation_find(**lookup)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(**lookup)
    except IntegrityError:
        existing = conversation_find(**lookup)
        if existing is None:
            raise
        return existing, False
    return conversation, True


@transaction.atomic
def message_send(
    *, conversation: Conversation, sender, side: str, body: str, attachment=None
) -> Message:
    """Post one message in `conversation` from `side` ("buyer" or "seller"); `sender` is
    the account, or None for the guest buyer. `attachment`, when given, was validated as
    an image by the form; it is re-encoded (WebP, metadata dropped) into private storage.

    Guarantees: the sender is not suspended, the body is 1–4000 characters (or empty
    with a picture), the thread's last activity and the sender's own read marker move
    to now (their message is not "unread" to them). The other side is emailed (a guest
    with a link carrying the order's token) and notified in-app, once, after commit."""
    from marketplace.uploads import normalize_image

    if sender is not None:
        _require_active(sender)
    if side not in ("buyer", "seller"):
        raise ApplicationError("Unknown side.")
    text = (body or "").strip()
    if text or attachment is None:
        text = _clean_body(text, limit=MESSAGE_MAX_CHARS, what="message")
    message = Message(conversation=conversation, sender=sender, body=text)
    if attachment is not None:
        message.attachment = normalize_image(
            attachment, max_side=settings.MESSAGE_IMAGE_MAX_SIDE, name="attachment"
        )
    message.save()
    now = message.created_at
    marker = "seller_read_at" if side == "seller" else "buyer_read_at"
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now, **{marker: now})
    conversation.last_message_at = now
    setattr(conversation, marker, now)
    _after_commit("message_new", message.pk)
    return message


def conversation_mark_read(*, conversation: Conversation, side: str) -> None:
    """The reader on `side` has seen everything in the thread up to now."""
    marker = "seller_read_at" if side == "seller" else "buyer_read_at"
    now = timezone.now()
    Conversation.objects.filter(pk=conversation.pk).update(**{marker: now})
    setattr(conversation, marker, now)


def message_new_notify(*, message_id: int) -> EmailLog | None:
    """Email (and notify in-app) the other side of a new message. A guest buyer gets a
    link back to the thread that carries their order's token. Keyed by message."""
    from messaging.hooks import order_context
    from messaging.post_selectors import conversation_path, conversation_title, counterpart_name

    message = Message.objects.select_related(
        "conversation__buyer", "conversation__seller__seller_profile", "conversation__product"
    ).get(pk=message_id)
    conversation = message.conversation
    from_seller = message.sender_id is not None and message.sender_id == conversation.seller_id
    token = None
    if from_seller:
        recipient = conversation.buyer
        to = recipient.email if recipient else conversation.buyer_email
        if recipient is None and conversation.order_id:
            context = order_context(
                order_id=conversation.order_id, seller_id=conversation.seller_id
            )
            token = context.access_token if context else None
            if token is None:
                return None  # the order is gone: no link we could give a guest
    else:
        recipient = conversation.seller
        to = recipient.email
    if not to:
        return None
    return email_send(
        key=f"message-new-{message.pk}",
        to=to,
        template="messaging/emails/message_new",
        context={
            "message": message,
            "conversation": conversation,
            "about": conversation_title(conversation),
            "sender_name": counterpart_name(
                conversation, side="buyer" if from_seller else "seller"
            ),
            "thread_path": conversation_path(conversation, token=token),
            "notification_user": recipient,
            "notification_url": conversation_path(conversation),
        },
    )


def conversations_attach_guest(*, user, email: str) -> int:
    """A newly verified address takes over the guest threads written with it."""
    return Conversation.objects.filter(buyer__isnull=True, buyer_email__iexact=email).update(
        buyer=user
    )


def _after_commit(kind: str, pk: int) -> None:
    from messaging import post_tasks as tasks

    task = {
        "question_new": tasks.question_new_notify_task,
        "question_answered": tasks.question_answered_notify_task,
        "message_new": tasks.message_new_notify_task,
    }[kind]
    transaction.on_commit(lambda: task.delay(pk))
