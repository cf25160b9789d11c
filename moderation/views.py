"""Reports from users (URL namespace "moderation"). Staff resolve them in the admin."""

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from catalog.models import Product, Review
from catalog.selectors import PUBLIC
from marketplace.access import VerifiedEmailRequiredMixin
from marketplace.exceptions import ApplicationError
from moderation.models import Report, StaffActionLog, report_reason_choices
from moderation.services import decision_appeal, review_report


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


class ReviewReportView(VerifiedEmailRequiredMixin, View):
    """Verified users: report someone else's visible review to the moderators."""

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
