"""Request gates that apply across the site.

- `LegalConsentMiddleware`: a signed-in user with a legal document in force they have not
  accepted (a version that took effect after they joined) is sent once to the acceptance
  page on their next page view. Logging out, account pages, legal pages, static files and
  form submissions are never blocked.
- `StaffMFAMiddleware`: staff must have two-factor authentication on before the admin
  opens (staff pages outside the admin check the same rule in `marketplace.access`).
"""

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from marketplace.access import staff_mfa_missing, staff_mfa_setup_redirect
from marketplace.legal import legal_current, legal_pending_ids

LEGAL_SESSION_KEY = "legal_ok"
# Never gated: allauth's pages (login, logout, email, password, 2FA, profile, data
# export, deletion), the legal texts themselves, health checks and files.
CONSENT_EXEMPT_PREFIXES = ("/accounts/", "/legal/", "/healthz", "/robots.txt", "/decisions/")


class LegalConsentMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.exempt = (
            *CONSENT_EXEMPT_PREFIXES,
            settings.STATIC_URL,
            settings.MEDIA_URL,
            "/" + settings.ADMIN_URL.lstrip("/"),
        )

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            request.method == "GET"
            # the path first: an exempt request (e.g. /healthz) never loads the session
            and not request.path.startswith(self.exempt)
            and user is not None
            and user.is_authenticated
            and self._pending(request)
        ):
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('marketplace:legal-accept')}?{query}")
        return self.get_response(request)

    def _pending(self, request) -> bool:
        # The session remembers which versions in force this user was found to have
        # accepted, so a page view costs no query until a new version takes effect.
        versions = legal_current().values()
        joined = request.user.date_joined.timestamp()
        if all(effective <= joined for _pk, effective in versions):
            return False  # nothing took effect since they joined (and accepted at signup)
        current = sorted(pk for pk, _effective in versions)
        if request.session.get(LEGAL_SESSION_KEY) == current:
            return False
        if legal_pending_ids(request.user):
            return True
        request.session[LEGAL_SESSION_KEY] = current
        return False


class StaffMFAMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = "/" + settings.ADMIN_URL.lstrip("/")

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            request.path.startswith(self.admin_prefix)
            and user is not None
            and staff_mfa_missing(user)
        ):
            return staff_mfa_setup_redirect(request)
        return self.get_response(request)
