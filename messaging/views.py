"""The notification centre and email preferences (signed-in users), and the staff email
log. Every lookup is scoped to the requester: another user's notification is a 404."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from marketplace.access import StaffRequiredMixin
from marketplace.exceptions import ApplicationError
from messaging.email_kinds import optional_email_kinds
from messaging.forms import (
    NotificationPreferencesForm,
    StaffEmailFilterForm,
    StaffEmailRetryForm,
)
from messaging.models import EmailLog, Notification
from messaging.selectors import (
    email_list_for_staff,
    notification_list_for_user,
    notification_preferences_for_user,
)
from messaging.services import (
    email_retry,
    notification_mark_read,
    notification_preferences_update,
    notifications_mark_all_read,
)

NOTIFICATIONS_PER_PAGE = 20
EMAILS_PER_PAGE = 50


class NotificationListView(LoginRequiredMixin, View):
    """Signed-in users: their notifications, newest first, unread highlighted."""

    def get(self, request: HttpRequest) -> HttpResponse:
        page = Paginator(
            notification_list_for_user(user=request.user), NOTIFICATIONS_PER_PAGE
        ).get_page(request.GET.get("page"))
        return render(request, "messaging/notification_list.html", {"page_obj": page})


class NotificationOpenView(LoginRequiredMixin, View):
    """Signed-in users, POST: mark one of their notifications read and follow its link
    (a local path; anything else goes back to the list)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        try:
            notification = notification_mark_read(user=request.user, notification_id=pk)
        except Notification.DoesNotExist:
            raise Http404("No such notification.") from None
        url = notification.url
        if (
            url
            and url.startswith("/")
            and url_has_allowed_host_and_scheme(
                url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            )
        ):
            return redirect(url)
        return redirect("messaging:notification-list")


class NotificationReadAllView(LoginRequiredMixin, View):
    """Signed-in users, POST: mark all their notifications read."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        count = notifications_mark_all_read(user=request.user)
        if count:
            plural = "s" if count != 1 else ""
            messages.success(request, f"Marked {count} notification{plural} read.")
        return redirect("messaging:notification-list")


class NotificationPreferencesView(LoginRequiredMixin, View):
    """Signed-in users: which optional emails they receive. Transactional mail (receipts,
    sales, shipping, refunds, disputes, security) is listed as always on."""

    template_name = "messaging/preferences.html"

    def _render(self, request, form, *, status=200):
        return render(
            request,
            self.template_name,
            {"form": form, "kinds": notification_preferences_for_user(user=request.user)},
            status=status,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        initial = [
            row["kind"]
            for row in notification_preferences_for_user(user=request.user)
            if row["enabled"]
        ]
        return self._render(request, NotificationPreferencesForm(initial={"enabled": initial}))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = NotificationPreferencesForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        enabled = set(form.cleaned_data["enabled"])
        muted = [kind for kind, _ in optional_email_kinds() if kind not in enabled]
        notification_preferences_update(user=request.user, muted_kinds=muted)
        messages.success(request, "Your email preferences are saved.")
        return redirect("messaging:preferences")


class StaffEmailListView(StaffRequiredMixin, View):
    """Staff: every email with `?status=` (FAILED, PENDING, SENT, SKIPPED), newest first;
    a failed one shows its error and a Retry form asking for a reason."""

    def _render(self, request, *, retry_form=None, retry_pk=None, status=200):
        form = StaffEmailFilterForm(request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        page = Paginator(
            email_list_for_staff(status=filters.get("status", "")), EMAILS_PER_PAGE
        ).get_page(request.GET.get("page"))
        return render(
            request,
            "messaging/staff_email_list.html",
            {
                "form": form,
                "page_obj": page,
                "retry_form": retry_form,
                "retry_pk": retry_pk,
            },
            status=400 if request.GET and not form.is_valid() else status,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request)


class StaffEmailRetryView(StaffEmailListView):
    """Staff, POST with a reason: send a FAILED email again (audit-logged)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = StaffEmailRetryForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Give a short reason for the retry.")
            return self._render(request, retry_form=form, retry_pk=pk, status=400)
        if not EmailLog.objects.filter(pk=pk).exists():
            raise Http404("No such email.")
        try:
            log = email_retry(log_id=pk, actor=request.user, reason=form.cleaned_data["reason"])
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return self._render(request, status=400)
        messages.success(request, f"The email to {log.to} is being sent again.")
        return redirect("messaging:staff-emails")
