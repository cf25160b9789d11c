"""Staff pages of payments (URL namespace "payments"): disputes and reconciliation. They
show what the webhooks, payouts and the ledger wrote, and `reconcile`'s verdict; the
writes are allocating a dashboard refund to lines and reprocessing a Stripe event with a
reason (service calls).
`StaffRequiredMixin`: anonymous → log in, signed-in non-staff → 404."""

import csv

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from marketplace.access import StaffRequiredMixin
from marketplace.exceptions import ApplicationError
from payments.forms import (
    ReconciliationExportForm,
    RefundAllocationForm,
    StripeEventReprocessForm,
)
from payments.models import PaymentRefund, StripeEvent
from payments.payment_refunds import payment_refund_allocate
from payments.reprocess import DONE, stripe_event_reprocess
from payments.selectors import (
    RECONCILIATION_CSV_HEADER,
    dispute_list_for_staff,
    order_money_for_staff,
    orders_with_drift,
    reconciliation_rows,
    sellers_owing,
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
            {"report": orders_with_drift(), "owing": sellers_owing(), "form": form},
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


class StaffRefundAllocateView(StaffRequiredMixin, View):
    """Staff: say which lines a partial refund made in the Stripe dashboard was for,
    then it is posted (`payment_refund_allocate`). One amount field per line."""

    def _refund(self, pk: int) -> PaymentRefund:
        refund = PaymentRefund.objects.select_related("order").filter(pk=pk).first()
        if refund is None or not refund.needs_allocation:
            raise Http404("No refund waits for an allocation here.")
        return refund

    def _render(self, request, refund, form, *, status=200) -> HttpResponse:
        lines = [(item, form[f"line_{item.pk}"]) for item in refund.order.items.all()]
        return render(
            request,
            "payments/staff/refund_allocate.html",
            {"refund": refund, "lines": lines, "form": form},
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        refund = self._refund(pk)
        return self._render(request, refund, RefundAllocationForm(order=refund.order))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        refund = self._refund(pk)
        form = RefundAllocationForm(request.POST, order=refund.order)
        if not form.is_valid():
            return self._render(request, refund, form, status=400)
        try:
            payment_refund_allocate(
                refund_id=refund.pk, allocations=form.allocations(), actor=request.user
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            return self._render(request, refund, form, status=400)
        messages.success(request, "The refund is allocated to its lines and posted.")
        return redirect("payments:staff-reconciliation-order", pk=refund.order_id)


class StaffStripeEventReprocessView(StaffRequiredMixin, View):
    """Staff: the confirmation page of reprocessing one stored Stripe event (GET), and
    the reprocessing itself with a required reason (POST, `stripe_event_reprocess`:
    audited; an event already processed is left as it is)."""

    def _render(self, request, event, form, *, status=200) -> HttpResponse:
        return render(
            request,
            "payments/staff/stripe_event_reprocess.html",
            {"event": event, "form": form, "already_done": event.status in DONE},
            status=status,
        )

    def _event(self, pk: int) -> StripeEvent:
        event = StripeEvent.objects.filter(pk=pk).first()
        if event is None:
            raise Http404("No such Stripe event.")
        return event

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._render(request, self._event(pk), StripeEventReprocessForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        event = self._event(pk)
        form = StripeEventReprocessForm(request.POST)
        if not form.is_valid():
            return self._render(request, event, form, status=400)
        try:
            result = stripe_event_reprocess(
                actor=request.user, event=event, reason=form.cleaned_data["reason"]
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            return self._render(request, event, form, status=400)
        if result.changed:
            messages.success(request, result.message)
        elif result.status == StripeEvent.Status.FAILED:
            messages.error(request, result.message)
        else:
            messages.info(request, result.message)
        return redirect("payments:staff-stripe-event-reprocess", pk=event.pk)
