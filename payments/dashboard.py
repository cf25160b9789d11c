"""The seller's payouts dashboard: ledger rows, running balance, totals, per-order view."""

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from marketplace.access import SellerRequiredMixin
from payments.models import SellerBalanceEntry
from payments.selectors import (
    ledger_entries_for_seller,
    payout_breakdown_by_order,
    payout_totals_for_seller,
)


class LedgerFilterForm(forms.Form):
    reason = forms.ChoiceField(
        choices=[("", "All entries"), *SellerBalanceEntry.Reason.choices], required=False
    )
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class PayoutsDashboardView(SellerRequiredMixin, View):
    """Sellers: their own ledger only."""

    def get(self, request: HttpRequest) -> HttpResponse:
        form = LedgerFilterForm(request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        entries = ledger_entries_for_seller(
            seller=request.user,
            reason=filters.get("reason") or None,
            date_from=filters.get("date_from"),
            date_to=filters.get("date_to"),
        )
        return render(
            request,
            "payments/payouts_dashboard.html",
            {
                "form": form,
                "entries": entries,
                "totals": payout_totals_for_seller(seller=request.user),
                "breakdown": payout_breakdown_by_order(seller=request.user),
            },
            status=200 if form.is_valid() or not request.GET else 400,
        )
