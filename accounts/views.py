"""Data export and account deletion (URL namespace "accounts"). Signed-in users only,
each acting on their own account."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views import View

from accounts.deletion import AccountDeletionBlocked, account_delete, account_deletion_blockers
from accounts.export import (
    data_export_check_signature,
    data_export_link,
    data_export_request,
    export_storage,
)
from accounts.forms import AccountDeleteForm
from accounts.models import DataExport
from marketplace.exceptions import ApplicationError


class DataExportView(LoginRequiredMixin, View):
    """Signed-in users: ask for an export of their data and see their recent exports."""

    template_name = "accounts/data_export.html"

    def _context(self, request):
        exports = list(DataExport.objects.filter(user=request.user)[:5])
        now = timezone.now()
        for export in exports:
            export.link = (
                data_export_link(export)
                if export.status == DataExport.Status.READY and export.expires_at > now
                else ""
            )
        return {"exports": exports, "link_hours": settings.DATA_EXPORT_LINK_SECONDS // 3600}

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, self._context(request))

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            data_export_request(user=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return render(request, self.template_name, self._context(request), status=409)
        messages.success(
            request, "Your export is being prepared. We will email you a link when it is ready."
        )
        return redirect("accounts:data-export")


class DataExportDownloadView(LoginRequiredMixin, View):
    """The requester only, signed in, with an unexpired signed link: the ZIP."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        export = DataExport.objects.filter(
            pk=pk, user=request.user, status=DataExport.Status.READY
        ).first()
        if export is None or export.expires_at <= timezone.now():
            raise Http404("No such export.")
        if not data_export_check_signature(export=export, signature=request.GET.get("s", "")):
            messages.error(request, "That download link has expired. Here is a fresh one.")
            return redirect("accounts:data-export")
        storage = export_storage()
        if settings.USE_S3:
            return redirect(storage.url(export.file_name))
        response = FileResponse(
            storage.open(export.file_name, "rb"), content_type="application/zip"
        )
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"homecraft3d-data-{export.created_at:%Y%m%d}.zip"
        )
        response["Cache-Control"] = "private, no-store"
        return response


class AccountDeleteView(LoginRequiredMixin, View):
    """Signed-in users: delete their own account after confirming their password. When
    something must be settled first, every reason is listed and nothing changes."""

    template_name = "accounts/delete.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {
                "form": AccountDeleteForm(user=request.user),
                "blockers": account_deletion_blockers(request.user),
            },
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        form = AccountDeleteForm(request.POST, user=request.user)
        blockers: list[str] = []
        if form.is_valid():
            try:
                account_delete(user=request.user)
            except AccountDeletionBlocked as exc:
                blockers = exc.reasons
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                logout(request)
                messages.success(request, "Your account is deleted. Thank you for being here.")
                return redirect("catalog:home")
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "blockers": blockers or account_deletion_blockers(request.user),
            },
            status=409 if blockers else 400,
        )
