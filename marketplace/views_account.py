"""Account settings and legal documents (URL namespace "marketplace")."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from marketplace.exceptions import ApplicationError
from marketplace.forms_account import LegalAcceptForm, ProfileForm
from marketplace.legal import (
    COOKIES,
    URL_NAMES,
    consent_ip,
    legal_accept,
    legal_document_current,
    legal_pending_for_user,
)
from marketplace.markdown import render_markdown
from marketplace.models import LegalDocument
from marketplace.selectors import refund_policy_lines, seller_profile_for_user
from marketplace.services import user_profile_update


class LegalDocumentView(View):
    """Anyone: the version in force of one legal document, at a stable URL."""

    kind: str = ""

    def get(self, request: HttpRequest) -> HttpResponse:
        document = legal_document_current(self.kind)
        context = {
            "title": LegalDocument.Kind(self.kind).label,
            "document": document,
            "body_html": render_markdown(document.body) if document else "",
            # Facts the code enforces are read from where the code reads them, never
            # typed into the text: the refund rules (SiteConfig) and the cookie list.
            "refund_rules": refund_policy_lines()
            if self.kind == LegalDocument.Kind.REFUND_POLICY
            else None,
            "cookies": COOKIES if self.kind == LegalDocument.Kind.PRIVACY else None,
        }
        return render(request, "marketplace/legal/document.html", context)


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("catalog:home")


class LegalAcceptView(LoginRequiredMixin, View):
    """Signed-in users with documents in force they have not accepted yet (sent here once
    by `LegalConsentMiddleware`): read and accept them."""

    template_name = "marketplace/legal/accept.html"

    def _pending(self, request):
        pending = legal_pending_for_user(request.user)
        for doc in pending:
            doc.url = reverse(URL_NAMES[doc.kind])
        return pending

    def get(self, request: HttpRequest) -> HttpResponse:
        pending = self._pending(request)
        if not pending:
            return redirect(_safe_next(request))
        return render(request, self.template_name, {"pending": pending, "form": LegalAcceptForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        pending = self._pending(request)
        form = LegalAcceptForm(request.POST)
        if pending and not form.is_valid():
            return render(
                request, self.template_name, {"pending": pending, "form": form}, status=400
            )
        legal_accept(documents=pending, user=request.user, ip=consent_ip(request))
        request.session.pop(LEGAL_SESSION_KEY, None)
        messages.success(request, "Thank you. You have accepted the updated documents.")
        return redirect(_safe_next(request))


LEGAL_SESSION_KEY = "legal_ok"


class ProfileView(LoginRequiredMixin, View):
    """Signed-in users: their own profile (display name, full name, picture) and links to
    every other account setting."""

    template_name = "marketplace/profile.html"

    def _context(self, request, form):
        return {
            "form": form,
            "profile_user": request.user,
            "seller_profile": seller_profile_for_user(request.user),
        }

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        form = ProfileForm(initial={"display_name": user.display_name, "name": user.name})
        if not user.avatar:
            del form.fields["remove_avatar"]
        return render(request, self.template_name, self._context(request, form))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ProfileForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                user_profile_update(user=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Your profile is saved.")
                return redirect("marketplace:profile")
        request.user.refresh_from_db()
        return render(request, self.template_name, self._context(request, form), status=400)
