"""Staff pages of payments (URL namespace "payments"): disputes and reconciliation. Read
only: they show what the webhooks, payouts and the ledger wrote, and `reconcile`'s
verdict. `StaffRequiredMixin`: anonymous → log in, signed-in non-staff → 404."""

import csv

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from marketplace.access import StaffRequiredMixin
from payments.forms import ReconciliationExportForm
from payments.selectors import (
    RECONCILIATION_CSV_HEADER,
    dispute_list_for_staff,
    order_money_for_staff,
    orders_with_drift,
    reconciliation_rows,
)
from payments.simulator import simulator_enabled


class StaffDisputeListView(StaffRequiredMixin, View):
    """Staff: every dispute, open ones first by evidence deadline."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(
            request, "payments/staff/dispute_list.html", {"disputes": dispute_list_for_staff()}
        )


class StaffReconciliationListView(StaffRequiredMixin, View):
    """Staff: the orders `reconcile` finds drift on, and the CSV export's form."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_list(request, ReconciliationExportForm())

    @staticmethod
    def render_list(request, form, *, status=200) -> HttpResponse:
        return render(
            request,
            "payments/staff/reconciliation_list.html",
            {"report": orders_with_drift(), "form": form},
            status=status,
        )


class StaffReconciliationExportView(StaffRequiredMixin, View):
    """Staff: `?date_from=&date_to=` → CSV of the orders paid in that range."""

    def get(self, request: HttpRequest) -> HttpResponse:
        form = ReconciliationExportForm(request.GET)
        if not form.is_valid():
            return StaffReconciliationListView.render_list(request, form, status=400)
        start, end = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="reconciliation-{start:%Y%m%d}-{end:%Y%m%d}.csv"'
        )
        response["Cache-Control"] = "private, no-store"
        writer = csv.writer(response)
        writer.writerow(RECONCILIATION_CSV_HEADER)
        writer.writerows(reconciliation_rows(date_from=start, date_to=end))
        return response


class StaffReconciliationOrderView(StaffRequiredMixin, View):
    """Staff: one order's money side by side, marked Balanced or Drift."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        money = order_money_for_staff(order_id=pk)
        if money is None:
            raise Http404("No such order.")
        return render(
            request,
            "payments/staff/reconciliation_order.html",
            {**money, "simulator": simulator_enabled()},
        )
