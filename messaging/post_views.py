"""Product Q&A and buyer–seller threads (URL namespace "messaging"). Each view
authorizes, checks the form's shape, calls one service and renders or redirects.

Who may use what:
- question permalink: anyone who may see the listing (a redirect to its product page).
- ask / answer (POST): `ActiveAccountRequiredMixin` (anonymous → log in, unverified →
  verify page, suspended → 403 page). The seller may not ask on their own listing.
- seller's waiting questions: `SellerRequiredMixin` (their own listings only).
- inbox: `VerifiedEmailRequiredMixin`; only the requester's own threads.
- a thread and its attachments: its buyer and seller (signed in), the holder of its
  order's token (`?t=`, ORDER threads), staff (read only). Anyone else: 404; anonymous
  without a token: log in. Posting needs an active (not suspended) account, or the token.
- start a thread: LISTING / SHOP — `ActiveAccountRequiredMixin`; ORDER — the order's
  buyer (active account) or token holder, or (the buyer side) a seller on the order.
Posting is rate limited (RATELIMIT_* settings) per user or guest session and per IP;
past the limit a 429 page says so in words.
"""

import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.crypto import constant_time_compare
from django.views import View
from django_ratelimit.core import is_ratelimited

from catalog.selectors import product_queryset_public
from marketplace.access import (
    ActiveAccountRequiredMixin,
    SellerRequiredMixin,
    VerifiedEmailRequiredMixin,
    active_account_required,
    suspended_response,
    unverified_response,
)
from marketplace.exceptions import ApplicationError
from marketplace.http import safe_next_url
from marketplace.models import SellerProfile
from marketplace.selectors import seller_is_listed, user_has_verified_email
from messaging import post_selectors as selectors
from messaging import posts as services
from messaging.hooks import order_context
from messaging.models import Conversation
from messaging.post_forms import AnswerForm, MessageForm, QuestionForm

# The shape of an order access token (orders' rule, repeated: orders sits above
# messaging). Anything else never reaches a comparison.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


def _token_from(request: HttpRequest) -> str | None:
    value = request.POST.get("t") or request.GET.get("t")
    return value if value and _TOKEN.fullmatch(value) else None


# ------------------------------------------------------------------------------
# Rate limits
# ------------------------------------------------------------------------------
def _user_or_session(group: str, request: HttpRequest) -> str:
    if request.user.is_authenticated:
        return f"user:{request.user.pk}"
    if not request.session.session_key:
        request.session.save()
    return f"guest:{request.session.session_key}"


def _over_limit(request: HttpRequest, *, group: str, rate: str) -> bool:
    """Count this post against the person's and the IP's allowance; True past either."""
    by_person = is_ratelimited(
        request, group=group, key=_user_or_session, rate=rate, increment=True
    )
    by_ip = is_ratelimited(
        request,
        group="messaging-posts-ip",
        key="ip",
        rate=settings.RATELIMIT_POST_IP,
        increment=True,
    )
    return by_person or by_ip


def _too_many(request: HttpRequest, *, what: str, back: str) -> HttpResponse:
    response = render(
        request, "messaging/rate_limited.html", {"what": what, "back": back}, status=429
    )
    response["Retry-After"] = "3600"
    return response


# ------------------------------------------------------------------------------
# Product questions and answers
# ------------------------------------------------------------------------------
class QuestionDetailView(View):
    """Anyone who may see the listing: the question's place on its product page."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        question = selectors.question_get_public(pk=pk)
        if question is None:
            raise Http404("No such question.")
        page = selectors.question_page_number(question)
        url = question.product.get_absolute_url()
        query = f"?qpage={page}" if page > 1 else ""
        return redirect(f"{url}{query}#question-{question.pk}")


class QuestionAskView(ActiveAccountRequiredMixin, View):
    """Verified, not suspended: POST a public question about a live listing."""

    def get(self, request: HttpRequest, product_pk: int) -> HttpResponse:
        # Back from logging in (the form posts here): the form is on the product page.
        product = get_object_or_404(product_queryset_public(), pk=product_pk)
        return redirect(f"{product.get_absolute_url()}#questions")

    def post(self, request: HttpRequest, product_pk: int) -> HttpResponse:
        product = get_object_or_404(product_queryset_public(), pk=product_pk)
        back = f"{product.get_absolute_url()}#questions"
        if _over_limit(request, group="messaging-question", rate=settings.RATELIMIT_QUESTION):
            return _too_many(request, what="questions", back=back)
        form = QuestionForm(request.POST)
        if not form.is_valid():
            return self._invalid(request, product, form.errors["body"][0])
        try:
            question = services.question_ask(
                product=product, author=request.user, body=form.cleaned_data["body"]
            )
        except ApplicationError as exc:
            return self._invalid(request, product, exc.message)
        messages.success(request, "Your question was sent to the seller.")
        return redirect(f"{product.get_absolute_url()}#question-{question.pk}")

    def _invalid(self, request, product, error: str) -> HttpResponse:
        return render(
            request,
            "messaging/post_problem.html",
            {
                "title": "Your question was not sent",
                "error": error,
                "body": request.POST.get("body", ""),
                "back": f"{product.get_absolute_url()}#questions",
                "product": product,
            },
            status=400,
        )


class AnswerCreateView(ActiveAccountRequiredMixin, View):
    """Verified, not suspended: POST an answer (the seller's, or another member's)."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return redirect("messaging:question-detail", pk=pk)  # the form is on the product page

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        question = selectors.question_get_public(pk=pk)
        if question is None:
            raise Http404("No such question.")
        back = safe_next_url(request, selectors.question_path(question))
        if _over_limit(request, group="messaging-answer", rate=settings.RATELIMIT_ANSWER):
            return _too_many(request, what="answers", back=back)
        form = AnswerForm(request.POST)
        error = None if form.is_valid() else form.errors["body"][0]
        if error is None:
            try:
                services.answer_post(
                    question=question, author=request.user, body=form.cleaned_data["body"]
                )
            except ApplicationError as exc:
                error = exc.message
        if error is not None:
            return render(
                request,
                "messaging/post_problem.html",
                {
                    "title": "Your answer was not posted",
                    "error": error,
                    "body": request.POST.get("body", ""),
                    "back": back,
                    "product": question.product,
                },
                status=400,
            )
        messages.success(request, "Your answer is posted.")
        return redirect(back)


class SellerQuestionListView(SellerRequiredMixin, View):
    """Sellers: "Questions waiting for you" — unanswered questions on their live
    listings, oldest first, each with an answer form."""

    def get(self, request: HttpRequest) -> HttpResponse:
        from django.core.paginator import Paginator

        waiting = selectors.questions_waiting_for_seller(seller=request.user)
        page = Paginator(waiting, selectors.SELLER_QUESTIONS_PER_PAGE).get_page(
            request.GET.get("page")
        )
        for question in page.object_list:
            question.author_display = selectors.public_name(question.author)
        return render(
            request,
            "messaging/seller_questions.html",
            {"page": page, "questions": page.object_list, "count": page.paginator.count},
        )


# ------------------------------------------------------------------------------
# Inbox and threads
# ------------------------------------------------------------------------------
class InboxView(VerifiedEmailRequiredMixin, View):
    """Verified users: their threads, latest first, with unread counts."""

    def get(self, request: HttpRequest) -> HttpResponse:
        from django.core.paginator import Paginator

        page = Paginator(
            selectors.inbox_for_user(user=request.user), selectors.INBOX_PER_PAGE
        ).get_page(request.GET.get("page"))
        threads = []
        for conversation in page.object_list:
            side = "seller" if conversation.seller_id == request.user.pk else "buyer"
            threads.append(
                {
                    "conversation": conversation,
                    "side": side,
                    "title": selectors.conversation_title(conversation),
                    "with": selectors.counterpart_name(conversation, side=side),
                    "unread": conversation.unread,
                }
            )
        waiting = None
        if hasattr(request.user, "seller_profile"):
            waiting = selectors.questions_waiting_for_seller(seller=request.user).count()
        return render(
            request,
            "messaging/inbox.html",
            {"page": page, "threads": threads, "questions_waiting": waiting},
        )


def _thread_access(request: HttpRequest, pk: int):
    """(access, None) or (None, the response to give instead)."""
    token = _token_from(request)
    if not request.user.is_authenticated and token is None:
        return None, redirect_to_login(request.get_full_path())
    if (
        request.user.is_authenticated
        and token is None
        and not user_has_verified_email(request.user)
    ):
        return None, unverified_response(request)
    access = selectors.conversation_for_viewer(pk=pk, user=request.user, token=token)
    if access is None:
        raise Http404("No such conversation.")
    return access, None


class ThreadView(View):
    """The thread's buyer and seller, its order's token holder, staff (read only): the
    messages, the order panel beside an ORDER thread, and the reply form. Opening it
    marks it read for the reader's side (not for staff). POST replies."""

    template_name = "messaging/thread.html"

    def _render(self, request, access, form, *, status=200) -> HttpResponse:
        conversation = access.conversation
        items = selectors.thread_messages(conversation, reader=access)
        return render(
            request,
            self.template_name,
            {
                "conversation": conversation,
                "access": access,
                "thread_messages": items,
                "title": selectors.conversation_title(conversation),
                "with": selectors.counterpart_name(conversation, side=access.side),
                "form": form,
                "token": access.token,
                "order": access.order,
                "order_link": (
                    f"{access.order.order_path}?t={access.token}"
                    if access.order and access.token
                    else access.order.order_path
                    if access.order
                    else ""
                ),
                "max_length": services.MESSAGE_MAX_CHARS,
                # A guest reports the other side's message with the order's key.
                "report_query": (
                    f"order={access.order.order_id}&t={access.token}"
                    if access.order and access.token
                    else ""
                ),
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        access, response = _thread_access(request, pk)
        if response is not None:
            return response
        if access.role != "staff":
            services.conversation_mark_read(conversation=access.conversation, side=access.side)
        return self._render(request, access, MessageForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        access, response = _thread_access(request, pk)
        if response is not None:
            return response
        if not access.may_post:
            raise Http404("Staff read threads; they do not post in them.")
        if request.user.is_authenticated and request.user.is_suspended:
            return suspended_response(request)  # even holding an order's token
        sender = request.user if access.role in ("buyer", "seller") else None
        path = selectors.conversation_path(access.conversation, token=access.token)
        if _over_limit(request, group="messaging-message", rate=settings.RATELIMIT_MESSAGE):
            return _too_many(request, what="messages", back=path)
        form = MessageForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render(request, access, form, status=400)
        try:
            services.message_send(
                conversation=access.conversation,
                sender=sender,
                side=access.side,
                body=form.cleaned_data["body"],
                attachment=form.cleaned_data.get("attachment"),
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            return self._render(request, access, form, status=400)
        messages.success(request, "Message sent.")
        return redirect(f"{path}#latest")


class AttachmentView(View):
    """Whoever may read the thread: one message's picture, from private storage."""

    def get(self, request: HttpRequest, pk: int, message_pk: int) -> HttpResponse:
        access, response = _thread_access(request, pk)
        if response is not None:
            return response
        message = access.conversation.messages.filter(
            pk=message_pk, removed_at__isnull=True
        ).first()
        if message is None or not message.attachment:
            raise Http404("No such picture.")
        response = FileResponse(message.attachment.open("rb"), content_type="image/webp")
        response["Cache-Control"] = "private, max-age=300"
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Disposition"] = "inline"
        return response


# ------------------------------------------------------------------------------
# Starting a thread (one per buyer, seller and subject: an existing one is reused)
# ------------------------------------------------------------------------------
class _StartView(View):
    """GET: the existing thread, or a compose form. POST: the thread (reused or new)
    and its first message."""

    subject: str = ""

    def target(self, request: HttpRequest, **kwargs) -> dict:
        """{"seller", "buyer", "buyer_email", "order_id", "product", "side", "about",
        "token"} for this request, or Http404."""
        raise NotImplementedError

    def _find(self, target: dict) -> Conversation | None:
        return selectors.conversation_find(
            subject=self.subject,
            seller=target["seller"],
            buyer=target["buyer"],
            buyer_email=target["buyer_email"],
            order_id=target["order_id"],
            product=target["product"],
        )

    def _render(self, request, target, form, *, status=200) -> HttpResponse:
        return render(
            request,
            "messaging/start.html",
            {"target": target, "form": form, "max_length": services.MESSAGE_MAX_CHARS},
            status=status,
        )

    def get(self, request: HttpRequest, **kwargs) -> HttpResponse:
        target = self.target(request, **kwargs)
        existing = self._find(target)
        if existing is not None:
            return redirect(selectors.conversation_path(existing, token=target["token"]))
        return self._render(request, target, MessageForm())

    def post(self, request: HttpRequest, **kwargs) -> HttpResponse:
        if request.user.is_authenticated and request.user.is_suspended:
            return suspended_response(request)  # even holding an order's token
        target = self.target(request, **kwargs)
        sender = target["buyer"] if target["side"] == "buyer" else target["seller"]
        if target["side"] == "buyer" and not (
            request.user.is_authenticated and request.user.pk == getattr(sender, "pk", None)
        ):
            sender = None  # the order's token holder writes as the (guest) buyer
        if _over_limit(request, group="messaging-message", rate=settings.RATELIMIT_MESSAGE):
            return _too_many(request, what="messages", back=request.get_full_path())
        form = MessageForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render(request, target, form, status=400)
        try:
            with transaction.atomic():
                conversation, _ = services.conversation_get_or_start(
                    subject=self.subject,
                    seller=target["seller"],
                    buyer=target["buyer"],
                    buyer_email=target["buyer_email"],
                    order_id=target["order_id"],
                    product=target["product"],
                )
                services.message_send(
                    conversation=conversation,
                    sender=sender,
                    side=target["side"],
                    body=form.cleaned_data["body"],
                    attachment=form.cleaned_data.get("attachment"),
                )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            return self._render(request, target, form, status=400)
        messages.success(request, "Message sent.")
        return redirect(selectors.conversation_path(conversation, token=target["token"]))


def _buyer_target(request, *, seller, product=None, about: str) -> dict:
    if seller.pk == request.user.pk:
        raise Http404("You cannot message yourself.")
    return {
        "seller": seller,
        "buyer": request.user,
        "buyer_email": "",
        "order_id": None,
        "product": product,
        "side": "buyer",
        "about": about,
        "token": None,
        "to": selectors.counterpart_name(Conversation(seller=seller), side="buyer"),
    }


class StartListingView(ActiveAccountRequiredMixin, _StartView):
    """Verified, not suspended, not the seller: "Contact the seller" about a live listing."""

    subject = Conversation.Subject.LISTING

    def target(self, request, product_pk: int) -> dict:
        product = get_object_or_404(
            product_queryset_public().select_related("seller__seller_profile"), pk=product_pk
        )
        target = _buyer_target(request, seller=product.seller, product=product, about=product.title)
        target["back"] = product.get_absolute_url()
        return target


class StartShopView(ActiveAccountRequiredMixin, _StartView):
    """Verified, not suspended, not the shop's owner: "Contact the seller" from a shop."""

    subject = Conversation.Subject.SHOP

    def target(self, request, slug: str) -> dict:
        profile = SellerProfile.objects.select_related("user").filter(slug=slug).first()
        if profile is None or not seller_is_listed(profile.user):
            raise Http404("No shop at this address.")
        target = _buyer_target(
            request, seller=profile.user, about=f"The shop {profile.display_name}"
        )
        target["back"] = profile.get_absolute_url()
        return target


class StartOrderBuyerView(_StartView):
    """The order's buyer (signed in, active account) or its token holder (`?t=`):
    "Message the seller" about a paid order that seller sold on. Else 404."""

    subject = Conversation.Subject.ORDER

    def dispatch(self, request, *args, **kwargs):
        token = _token_from(request)
        if token is None:
            # Without the order's key: a signed-in, verified, not suspended buyer.
            return active_account_required(super().dispatch)(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def target(self, request, order_pk: int, seller_pk: int) -> dict:
        token = _token_from(request)
        context = order_context(order_id=order_pk, seller_id=seller_pk)
        if context is None:
            raise Http404("No such order.")
        is_buyer = request.user.is_authenticated and context.buyer_id == request.user.pk
        holds_token = bool(token) and constant_time_compare(token, context.access_token)
        if not (is_buyer or holds_token):
            raise Http404("No such order.")
        seller = get_object_or_404(
            SellerProfile.objects.select_related("user"), user_id=seller_pk
        ).user
        buyer = _user(context.buyer_id)
        return {
            "seller": seller,
            "buyer": buyer,
            "buyer_email": "" if buyer else context.buyer_email,
            "order_id": context.order_id,
            "product": None,
            "side": "buyer",
            "about": f"Order {context.number}",
            "token": token if not is_buyer else None,
            "to": selectors.counterpart_name(Conversation(seller=seller), side="buyer"),
            "back": f"{context.order_path}?t={token}" if not is_buyer else context.order_path,
        }


class StartOrderSellerView(ActiveAccountRequiredMixin, _StartView):
    """A seller on a paid order (active account): "Message the buyer". Else 404."""

    subject = Conversation.Subject.ORDER

    def target(self, request, order_pk: int) -> dict:
        context = order_context(order_id=order_pk, seller_id=request.user.pk)
        if context is None:
            raise Http404("No such sale.")
        buyer = _user(context.buyer_id)
        if buyer is not None and buyer.pk == request.user.pk:
            raise Http404("You cannot message yourself.")
        return {
            "seller": request.user,
            "buyer": buyer,
            "buyer_email": "" if buyer else context.buyer_email,
            "order_id": context.order_id,
            "product": None,
            "side": "seller",
            "about": f"Order {context.number}",
            "token": None,
            "to": context.buyer_name,
            "back": context.sale_path,
            "order": context,
        }


def _user(pk: int | None):
    from marketplace.models import User

    return User.objects.filter(pk=pk).first() if pk else None
