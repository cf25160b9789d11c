"""Reports from users (URL namespace "moderation"). Staff resolve them in the admin."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from catalog.models import Product, Review
from catalog.selectors import PUBLIC
from marketplace.access import VerifiedEmailRequiredMixin
from marketplace.exceptions import ApplicationError
from moderation.models import Report
from moderation.services import review_report


class ReportForm(forms.Form):
    reason = forms.ChoiceField(label="What is wrong with this review?", choices=Report.Reason)
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
