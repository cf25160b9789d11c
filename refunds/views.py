"""Refund pages (URL namespace "refunds"): the buyer asks and follows, the seller
decides or refunds on their own initiative, staff oversee. Each view authorizes, checks
the form's shape, calls one service from `refunds.services` and renders or redirects;
the rules (window, amounts, who decides) are `refunds.policy`'s and the services'.

Who may use what:
- buyer pages: the order's buyer signed in, or anyone holding the order's token (`?t=`);
  anyone else gets a 404, as for a request that does not exist.
- seller pages: `SellerRequiredMixin`; a request or line of another seller is a 404.
- staff pages: `StaffRequiredMixin` (anonymous → log in, signed-in non-staff → 404).
"""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.views import View
from django_ratelimit.decorators import ratelimit

from marketplace.access import SellerRequiredMixin, StaffRequiredMixin, VerifiedEmailRequiredMixin
from marketplace.exceptions import ApplicationError
from marketplace.templatetags.money import format_money
from orders.models import OrderItem
from orders.selectors import access_token_from
from refunds.forms import (
    RefundApproveForm,
    RefundDeclineForm,
    RefundRequestForm,
    SellerLineRefundForm,
    SellerRefundFilterForm,
    StaffLineRefundForm,
    StaffRefundFilterForm,
)
from refunds.models import RefundRequest
from refunds.policy import (
    refund_ask_refusal,
    refund_max_cents,
    refund_needs_decision,
    refund_policy_summary,
    refund_window_ends,
)
from refunds.selectors import (
    order_item_for_buyer,
    refund_get_for_buyer,
    refund_get_for_seller,
    refund_list_for_buyer,
    refund_list_for_staff,
    refund_queue_for_seller,
)
from refunds.services import (
    refund_line_initiate,
    refund_request_approve,
    refund_request_cancel,
    refund_request_create,
    refund_request_decline,
    refund_request_retry,
)

RATE_LIMITED_MESSAGE = (
    "You have asked for several refunds in a short time. Please wait a while and try "
    "again; if something is urgent, reply to your receipt email."
)


def _with_token(url: str, token: str | None) -> str:
    return f"{url}?{urlencode({'t': token})}" if token else url


def _detail_url(refund: RefundRequest, token: str | None) -> str:
    return _with_token(reverse("refunds:refund-detail", args=[refund.pk]), token)


def _money(cents: int, currency: str) -> str:
    return format_money(cents, currency)


# ------------------------------------------------------------------------------
# Buyer (signed in, or a guest holding the order's token)
# ------------------------------------------------------------------------------
def user_or_session(group: str, request: HttpRequest) -> str:
    """Rate-limit key: the signed-in user, else the guest's session."""
    if request.user.is_authenticated:
        return f"user:{request.user.pk}"
    if not request.session.session_key:
        request.session.save()
    return f"guest:{request.session.session_key}"


def _request_rate(group, request) -> str:
    return settings.REFUND_REQUEST_RATE


def _request_rate_ip(group, request) -> str:
    return settings.REFUND_REQUEST_RATE_IP


class RefundRequestCreateView(View):
    """The line's buyer (signed in, or `?t=` the order's token): the policy, the window,
    the amount left, and the form. POST asks through `refund_request_create`, at most
    REFUND_REQUEST_RATE times per person (429 beyond)."""

    template_name = "refunds/refund_request_form.html"

    def _item(self, request: HttpRequest, order_pk: int, item_pk: int):
        token = access_token_from(request.GET.get("t"))
        item = order_item_for_buyer(
            order_pk=order_pk, item_pk=item_pk, user=request.user, token=token
        )
        if item is None:
            raise Http404("No such item.")
        return item, token

    def _render(self, request, item, token, form, *, status=200, refusal=None):
        return render(
            request,
            self.template_name,
            {
                "item": item,
                "order": item.order,
                "token": token,
                "form": form,
                "refusal": refusal,
                "policy": refund_policy_summary(),
                "window_ends": refund_window_ends(item),
                "most_cents": refund_max_cents(item, by_staff=False),
                "needs_decision": refund_needs_decision(item),
                "order_url": _with_token(item.order.get_absolute_url(), token),
            },
            status=status,
        )

    def get(self, request: HttpRequest, order_pk: int, item_pk: int) -> HttpResponse:
        item, token = self._item(request, order_pk, item_pk)
        existing = RefundRequest.objects.filter(order_item=item).first()
        if existing is not None:
            return redirect(_detail_url(existing, token))
        refusal = refund_ask_refusal(item)
        return self._render(
            request,
            item,
            token,
            RefundRequestForm(),
            status=403 if refusal else 200,
            refusal=refusal,
        )

    @method_decorator(
        [
            ratelimit(key=user_or_session, rate=_request_rate, method="POST", block=False),
            ratelimit(key="ip", rate=_request_rate_ip, method="POST", block=False),
        ]
    )
    def post(self, request: HttpRequest, order_pk: int, item_pk: int) -> HttpResponse:
        item, token = self._item(request, order_pk, item_pk)
        form = RefundRequestForm(request.POST)
        if getattr(request, "limited", False):
            messages.error(request, RATE_LIMITED_MESSAGE)
            response = self._render(request, item, token, form, status=429)
            response["Retry-After"] = "3600"
            return response
        if not form.is_valid():
            return self._render(request, item, token, form, status=400)
        try:
            refund = refund_request_create(
                item=item,
                requested_by=request.user,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                amount_cents=form.cleaned_data["amount"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            return self._render(request, item, token, form, status=400)
        amount = _money(refund.requested_amount_cents, refund.currency)
        if refund.status == RefundRequest.Status.REQUESTED:
            messages.success(request, f"Your request for {amount} is sent to the seller.")
        else:
            messages.success(request, f"Your refund of {amount} is on its way.")
        return redirect(_detail_url(refund, token))


class RefundListView(VerifiedEmailRequiredMixin, View):
    """Verified buyers: the refunds on their own orders. Guests follow theirs from the
    order page (their link)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(
            request,
            "refunds/refund_list.html",
            {"refunds": refund_list_for_buyer(buyer=request.user)},
        )


class _BuyerRefundMixin:
    def get_refund(self, request: HttpRequest, pk: int) -> tuple[RefundRequest, str | None]:
        token = access_token_from(request.GET.get("t"))
        refund = refund_get_for_buyer(pk=pk, user=request.user, token=token)
        if refund is None:
            raise Http404("No such refund.")
        return refund, token

    def render_detail(self, request, refund, token, *, status=200) -> HttpResponse:
        return render(
            request,
            "refunds/refund_detail.html",
            {
                "refund": refund,
                "item": refund.order_item,
                "order": refund.order_item.order,
                "token": token,
                "order_url": _with_token(refund.order_item.order.get_absolute_url(), token),
            },
            status=status,
        )


class RefundDetailView(_BuyerRefundMixin, View):
    """The order's buyer, or `?t=` the order's token: one request and its decision."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        refund, token = self.get_refund(request, pk)
        return self.render_detail(request, refund, token)


class RefundCancelView(_BuyerRefundMixin, View):
    """The order's buyer, or `?t=` the order's token. POST: withdraw before a decision."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        refund, token = self.get_refund(request, pk)
        try:
            refund = refund_request_cancel(request=refund, by=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return self.render_detail(request, refund, token, status=400)
        messages.success(request, "Your request is withdrawn.")
        return redirect(_detail_url(refund, token))


# ------------------------------------------------------------------------------
# Seller: requests on their own lines, refunds on their own initiative
# ------------------------------------------------------------------------------
class SellerRefundQueueView(SellerRequiredMixin, View):
    """Sellers: requests on their own lines, waiting ones first; `?status=` filters."""

    def get(self, request: HttpRequest) -> HttpResponse:
        form = SellerRefundFilterForm(request.GET or None)
        status = form.cleaned_data["status"] if form.is_valid() else ""
        return render(
            request,
            "refunds/seller_refund_list.html",
            {"form": form, "refunds": refund_queue_for_seller(seller=request.user, status=status)},
            status=400 if request.GET and not form.is_valid() else 200,
        )


class SellerRefundDetailView(SellerRequiredMixin, View):
    """The seller of the line: a request, with the approve and decline forms while it
    waits. POST to `decision="approve"` / `"decline"` (set in urls) decides."""

    decision: str = ""

    def _render(self, request, refund, *, approve=None, decline=None, status=200):
        item = refund.order_item
        return render(
            request,
            "refunds/seller_refund_detail.html",
            {
                "refund": refund,
                "item": item,
                "order": item.order,
                "approve_form": approve or RefundApproveForm(prefix="approve"),
                "decline_form": decline or RefundDeclineForm(prefix="decline"),
                "most_cents": min(
                    refund.requested_amount_cents, refund_max_cents(item, by_staff=False)
                ),
            },
            status=status,
        )

    def _refund(self, request, pk) -> RefundRequest:
        refund = refund_get_for_seller(pk=pk, seller=request.user)
        if refund is None:
            raise Http404("No such refund.")
        return refund

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._render(request, self._refund(request, pk))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.decision:
            return HttpResponseNotAllowed(["GET"])
        refund = self._refund(request, pk)
        form_class = RefundApproveForm if self.decision == "approve" else RefundDeclineForm
        form = form_class(request.POST, prefix=self.decision)  # two forms on one page
        forms = {self.decision: form}
        if not form.is_valid():
            return self._render(request, refund, **forms, status=400)
        try:
            if self.decision == "approve":
                refund = refund_request_approve(
                    request=refund,
                    actor=request.user,
                    amount_cents=form.cleaned_data["amount"],
                    note=form.cleaned_data["note"],
                )
                amount = _money(refund.approved_amount_cents, refund.currency)
                done = f"Refund of {amount} approved; the buyer is told."
            else:
                refund = refund_request_decline(
                    request=refund, actor=request.user, note=form.cleaned_data["note"]
                )
                done = "Request declined; the buyer is told why."
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            return self._render(request, refund, **forms, status=400)
        messages.success(request, done)
        return redirect("refunds:seller-refund-list")


class SellerLineRefundView(SellerRequiredMixin, View):
    """The seller of the line: refund it on their own initiative (e.g. cannot make it)."""

    template_name = "refunds/seller_line_refund.html"

    def _item(self, request, item_pk) -> OrderItem:
        item = (
            OrderItem.objects.select_related("order")
            .filter(pk=item_pk, seller=request.user)
            .first()
        )
        if item is None:
            raise Http404("No such sale.")
        return item

    def _render(self, request, item, form, *, status=200):
        refusal = refund_ask_refusal(item, by_seller_or_staff=True)
        return render(
            request,
            self.template_name,
            {
                "item": item,
                "order": item.order,
                "form": form,
                "refusal": refusal,
                "existing": RefundRequest.objects.filter(order_item=item).first(),
                "most_cents": refund_max_cents(item, by_staff=False),
            },
            status=status,
        )

    def get(self, request: HttpRequest, item_pk: int) -> HttpResponse:
        return self._render(request, self._item(request, item_pk), SellerLineRefundForm())

    def post(self, request: HttpRequest, item_pk: int) -> HttpResponse:
        item = self._item(request, item_pk)
        form = SellerLineRefundForm(request.POST)
        if not form.is_valid():
            return self._render(request, item, form, status=400)
        try:
            refund = refund_line_initiate(
                item=item,
                actor=request.user,
                amount_cents=form.cleaned_data["amount"],
                note=form.cleaned_data["note"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            return self._render(request, item, form, status=400)
        messages.success(
            request,
            f"Refund of {_money(refund.approved_amount_cents, refund.currency)} for "
            f"“{item.title}” is on its way; the buyer is told.",
        )
        return redirect("orders:seller-sales")


# ------------------------------------------------------------------------------
# Staff
# ------------------------------------------------------------------------------
class StaffRefundListView(StaffRequiredMixin, View):
    """Staff: every request, `?status=` and `?older_than_days=` filters."""

    def _render(self, request, *, status=200):
        form = StaffRefundFilterForm(request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        return render(
            request,
            "refunds/staff_refund_list.html",
            {
                "form": form,
                "refunds": refund_list_for_staff(
                    status=filters.get("status", ""),
                    older_than_days=filters.get("older_than_days"),
                ),
            },
            status=400 if request.GET and not form.is_valid() else status,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request)


class StaffRefundRetryView(StaffRefundListView):
    """Staff. POST: send a FAILED refund again."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        refund = RefundRequest.objects.filter(pk=pk).first()
        if refund is None:
            raise Http404("No such refund.")
        try:  # the service refuses anything but a FAILED refund
            refund_request_retry(request=refund, actor=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return self._render(request, status=400)
        messages.success(request, f"Refund request {refund.pk} is being sent again.")
        return redirect("refunds:staff-refund-list")


class StaffLineRefundView(StaffRequiredMixin, View):
    """Staff: the guarded refund of a line. GET is the confirmation page (what the line
    has left, its request if any); POST needs a reason and calls `refund_line_initiate`,
    which approves a waiting request or starts a new one."""

    template_name = "refunds/staff_line_refund.html"

    def _item(self, item_pk) -> OrderItem:
        item = (
            OrderItem.objects.select_related("order", "seller__seller_profile")
            .filter(pk=item_pk)
            .first()
        )
        if item is None:
            raise Http404("No such item.")
        return item

    def _render(self, request, item, form, *, status=200):
        return render(
            request,
            self.template_name,
            {
                "item": item,
                "order": item.order,
                "form": form,
                "existing": RefundRequest.objects.filter(order_item=item).first(),
                "refusal": refund_ask_refusal(item, by_seller_or_staff=True),
                "most_cents": refund_max_cents(item, by_staff=True),
            },
            status=status,
        )

    def get(self, request: HttpRequest, item_pk: int) -> HttpResponse:
        return self._render(request, self._item(item_pk), StaffLineRefundForm())

    def post(self, request: HttpRequest, item_pk: int) -> HttpResponse:
        item = self._item(item_pk)
        form = StaffLineRefundForm(request.POST)
        if not form.is_valid():
            return self._render(request, item, form, status=400)
        try:
            refund = refund_line_initiate(
                item=item,
                actor=request.user,
                amount_cents=form.cleaned_data["amount"],
                note=form.cleaned_data["note"],
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            return self._render(request, item, form, status=400)
        messages.success(
            request,
            f"Refund of {_money(refund.approved_amount_cents, refund.currency)} for "
            f"“{item.title}” (order #{item.order_id}) is on its way.",
        )
        return redirect("refunds:staff-refund-list")
