"""Reports from users, statements of reasons and appeals (URL namespace "moderation").
The staff pages are in moderation/staff.py."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django_ratelimit.decorators import ratelimit

from catalog.models import Product, Review
from catalog.selectors import PUBLIC
from marketplace.access import ActiveAccountRequiredMixin, active_account_required
from marketplace.exceptions import ApplicationError
from moderation.forms import ReportCreateForm
from moderation.kinds import REPORTABLE, Reporter, kind_get
from moderation.models import Report, StaffActionLog, report_reason_choices
from moderation.services import decision_appeal, report_create, review_report
from orders.selectors import access_token_from, order_get_for_viewer

RATE_LIMITED_MESSAGE = "You have sent many reports in a short time. Please try again in an hour."


def _reporter_key(group: str, request: HttpRequest) -> str:
    """Rate-limit key: the signed-in user, else the guest's order token."""
    if request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return f"guest:{request.GET.get('t', '')[:64]}"


def _report_rate(group, request) -> str:
    return settings.REPORT_RATE


def _report_rate_ip(group, request) -> str:
    return settings.REPORT_RATE_IP


class ReportCreateView(View):
    """Report a listing, question, answer, message, review or user:
    `/moderation/report/<kind>/<id>/`, GET the form, POST it.

    Who: a verified, non-suspended user (anonymous → log in, unverified → verify page,
    suspended → 403 page); a guest holding an order token (`?order=<pk>&t=<token>`) for a
    listing, or a message of that order's conversation. The target is loaded through the
    kind's rule (only what this reporter can see; messages only for participants), else
    404. Rate limited (REPORT_RATE per reporter, REPORT_RATE_IP per address): 429."""

    template_name = "moderation/report_form.html"

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated and request.GET.get("t"):
            return super().dispatch(request, *args, **kwargs)  # guest: checked in _load
        return active_account_required(super().dispatch)(request, *args, **kwargs)

    def _load(self, request: HttpRequest, kind: str, pk: int):
        spec = kind_get(kind)
        if spec is None or spec.code not in REPORTABLE:
            raise Http404("Nothing to report here.")
        if request.user.is_authenticated:
            reporter = Reporter(user=request.user)
        else:
            order_pk = request.GET.get("order", "")
            token = access_token_from(request.GET.get("t"))
            order = (
                order_get_for_viewer(pk=int(order_pk), user=request.user, token=token)
                if token and order_pk.isdigit() and len(order_pk) < 19
                else None
            )
            if order is None or not spec.guests:
                raise Http404("Nothing to report here.")
            reporter = Reporter(order=order)
        target = spec.load(pk, reporter)
        if target is None:
            raise Http404("Nothing to report here.")
        return spec, reporter, target

    def _next(self, request: HttpRequest) -> str:
        nxt = request.POST.get("next") or request.GET.get("next") or ""
        if nxt and url_has_allowed_host_and_scheme(
            nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return nxt
        return ""

    def _render(self, request, spec, target, form, *, status=200) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {
                "spec": spec,
                "preview": spec.preview(target),
                "form": form,
                "next": self._next(request),
            },
            status=status,
        )

    def get(self, request: HttpRequest, kind: str, pk: int) -> HttpResponse:
        spec, _, target = self._load(request, kind, pk)
        return self._render(request, spec, target, ReportCreateForm(reasons=spec.reasons))

    @method_decorator(
        [
            ratelimit(key=_reporter_key, rate=_report_rate, method="POST", block=False),
            ratelimit(key="ip", rate=_report_rate_ip, method="POST", block=False),
        ]
    )
    def post(self, request: HttpRequest, kind: str, pk: int) -> HttpResponse:
        spec, reporter, target = self._load(request, kind, pk)
        form = ReportCreateForm(request.POST, reasons=spec.reasons)
        if getattr(request, "limited", False):
            form.is_valid()
            form.add_error(None, RATE_LIMITED_MESSAGE)
            response = self._render(request, spec, target, form, status=429)
            response["Retry-After"] = "3600"
            return response
        if not form.is_valid():
            return self._render(request, spec, target, form, status=400)
        try:
            report_create(
                kind=spec.code,
                target=target,
                reporter=reporter,
                reason=form.cleaned_data["reason"],
                details=form.cleaned_data["details"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            return self._render(request, spec, target, form, status=400)
        messages.success(request, f"Thank you. Our team will look at this {spec.noun}.")
        return redirect(self._next(request) or "catalog:home")


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        label="What is wrong with this review?",
        choices=report_reason_choices(Report.REVIEW_REASONS),
    )
    details = forms.CharField(
        label="Anything else our team should know?",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReviewReportView(ActiveAccountRequiredMixin, View):
    """Verified, non-suspended users: report someone else's visible review."""

    def post(self, request: HttpRequest, review_pk: int) -> HttpResponse:
        review = (
            Review.objects.select_related("product__seller__seller_profile", "author")
            .filter(pk=review_pk, is_hidden=False, product__in=Product.objects.filter(PUBLIC))
            .first()
        )
        if review is None:
            raise Http404("No such review.")
        back = f"{review.product.get_absolute_url()}#review-{review.pk}"
        form = ReportForm(request.POST)
        if not form.is_valid():
            return render(
                request,
                "catalog/review_form.html",
                {"mode": "report", "p": review.product, "review": review, "form": form},
                status=400,
            )
        try:
            review_report(review=review, reporter=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Thank you. Our team will look at this review.")
        return redirect(back)


class AppealForm(forms.Form):
    text = forms.CharField(
        label="Why do you think this decision is wrong?",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class StatementView(LoginRequiredMixin, View):
    """The statement of reasons for one staff decision: the affected user (or staff)
    reads it; the affected user can appeal once."""

    template_name = "moderation/statement.html"

    def _entry(self, request: HttpRequest, pk: int) -> StaffActionLog:
        entries = StaffActionLog.objects.select_related("actor")
        if not request.user.is_staff:
            entries = entries.filter(subject_user=request.user)
        entry = entries.filter(pk=pk).first()
        if entry is None:
            raise Http404("No such decision.")
        return entry

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        entry = self._entry(request, pk)
        return render(request, self.template_name, {"entry": entry, "form": AppealForm()})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        entry = self._entry(request, pk)
        form = AppealForm(request.POST)
        if form.is_valid():
            try:
                decision_appeal(
                    entry_id=entry.pk, user=request.user, text=form.cleaned_data["text"]
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Your appeal was sent. Our team will answer by email.")
                return redirect("moderation:statement", pk=entry.pk)
        return render(request, self.template_name, {"entry": entry, "form": form}, status=400)
