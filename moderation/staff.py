"""Staff pages of moderation: the report queue and its decisions, the audit trail, and
suspensions. `StaffRequiredMixin`: anonymous → log in, signed-in non-staff → 404.
Every decision is one service call that writes `StaffActionLog`."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from marketplace.access import StaffRequiredMixin
from marketplace.exceptions import ApplicationError
from moderation.forms import AuditFilterForm, QueueFilterForm, ReportDecisionForm, UnsuspendForm
from moderation.models import Report, Suspension
from moderation.selectors import (
    report_queue,
    report_queue_rows,
    staff_action_log_list,
    suspension_list,
)
from moderation.services import (
    appeal_decide,
    report_dismiss,
    report_remove_content,
    report_suspend_subject,
)
from moderation.suspensions import user_unsuspend

PAGE_SIZE = 25


def _page(request: HttpRequest, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


class ModerationQueueView(StaffRequiredMixin, View):
    """Staff: reports, open (oldest first) / resolved / all, by kind, with each
    target's preview, the reporter, the subject's record and the decision forms."""

    def get(self, request: HttpRequest) -> HttpResponse:
        form = QueueFilterForm(request.GET)
        status, kind = "open", ""
        if form.is_valid():
            status = form.cleaned_data["status"] or "open"
            kind = form.cleaned_data["kind"]
        page = _page(request, report_queue(status=status, kind=kind))
        return render(
            request,
            "moderation/staff/queue.html",
            {
                "form": form,
                "status": status,
                "page_obj": page,
                "rows": report_queue_rows(page.object_list),
                "open_count": Report.objects.filter(status=Report.Status.OPEN).count(),
            },
        )


class ReportDecideView(StaffRequiredMixin, View):
    """Staff: POST one decision on an open report (dismiss, remove the content, suspend
    the subject; for appeals uphold or reverse), with a reason."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        report = Report.objects.filter(pk=pk).first()
        if report is None:
            raise Http404("No such report.")
        form = ReportDecisionForm(request.POST)
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = ""
        if not form.is_valid():
            for field, errors in form.errors.items():
                messages.error(request, f"Report #{pk}: {field}: {' '.join(errors)}")
            return redirect(back or "moderation:staff-queue")
        data, staff = form.cleaned_data, request.user
        decision = data["decision"]
        appeal = report.kind == Report.Kind.APPEAL
        try:
            if decision in (form.UPHOLD, form.REVERSE):
                if not appeal:
                    raise ApplicationError("Only appeals are upheld or reversed.")
                appeal_decide(
                    report=report,
                    staff=staff,
                    reverse=decision == form.REVERSE,
                    reason=data["reason"],
                )
            elif appeal and decision != form.DISMISS:
                raise ApplicationError("Uphold or reverse an appeal.")
            elif decision == form.DISMISS:
                report_dismiss(report=report, staff=staff, reason=data["reason"])
            elif decision == form.REMOVE:
                report_remove_content(report=report, staff=staff, reason=data["reason"])
            else:
                report_suspend_subject(
                    report=report, staff=staff, reason=data["reason"], ends_at=data["ends_at"]
                )
        except ApplicationError as exc:
            messages.error(request, f"Report #{pk}: {exc.message}")
        else:
            messages.success(request, f"Report #{pk}: done, and recorded in the audit log.")
        return redirect(back or "moderation:staff-queue")


class StaffActionLogListView(StaffRequiredMixin, View):
    """Staff: the audit trail, newest first, filtered and paginated."""

    def get(self, request: HttpRequest) -> HttpResponse:
        form = AuditFilterForm(request.GET)
        filters = {}
        status = 200
        if form.is_valid():
            filters = {k: v for k, v in form.cleaned_data.items() if v}
        else:
            status = 400
        page = _page(request, staff_action_log_list(**filters))
        return render(
            request,
            "moderation/staff/audit_log.html",
            {"form": form, "page_obj": page},
            status=status,
        )


class SuspensionListView(StaffRequiredMixin, View):
    """Staff: active suspensions (soonest end first) or ended ones, with lift forms."""

    def get(self, request: HttpRequest) -> HttpResponse:
        state = "ended" if request.GET.get("state") == "ended" else "active"
        page = _page(request, suspension_list(state=state))
        return render(
            request,
            "moderation/staff/suspensions.html",
            {"state": state, "page_obj": page, "form": UnsuspendForm()},
        )


class SuspensionLiftView(StaffRequiredMixin, View):
    """Staff: POST lift an active suspension now, with a reason."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        suspension = (
            Suspension.objects.select_related("user").filter(pk=pk, lifted_at__isnull=True).first()
        )
        if suspension is None:
            raise Http404("No active suspension here.")
        form = UnsuspendForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Give a reason for lifting the suspension.")
            return redirect("moderation:staff-suspensions")
        try:
            user_unsuspend(
                user=suspension.user, staff=request.user, reason=form.cleaned_data["reason"]
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{suspension.user} is no longer suspended.")
        return redirect("moderation:staff-suspensions")
