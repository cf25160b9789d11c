from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.generic import FormView

from marketplace.access import ActiveAccountRequiredMixin, SellerRequiredMixin
from marketplace.exceptions import ApplicationError
from marketplace.forms import SellerProfileForm, SellerProfileUpdateForm
from marketplace.health import health_report
from marketplace.legal import consent_ip
from marketplace.selectors import (
    seller_profile_for_user,
    site_config_get,
)
from marketplace.services import seller_profile_create, seller_profile_update


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Anyone (load balancers, uptime checks): 200 {"status": "up"} when every dependency
    answers, else 503 {"status": "down"}, within two seconds. Nothing else: no names,
    hosts or ports, and the session is not read (a cookie costs no query). Staff who
    ask with `?detail=1` also get each dependency's state and error."""
    ok, checks = health_report()
    body: dict = {"status": "up" if ok else "down"}
    if request.GET.get("detail") == "1" and _is_staff(request):
        body["checks"] = checks
    return JsonResponse(body, status=200 if ok else 503)


healthz.reads_no_session = True  # marketplace.observability: no session read for logs


def _is_staff(request: HttpRequest) -> bool:
    from marketplace.degrade import DATABASE_ERRORS

    try:
        return bool(request.user.is_authenticated and request.user.is_staff)
    except DATABASE_ERRORS:
        return False  # the session or user cannot be read: the database is down


# Private or per-person pages: nothing there for a search engine. Public pages (home,
# browse, search, categories, products, shops, legal) stay crawlable.
ROBOTS_DISALLOW = [
    "/accounts/",
    "/cart/",
    "/checkout/",
    "/orders/",
    "/downloads/",
    "/library/",
    "/saved/",
    "/seller/",
    "/payments/",
    "/stripe/",
    "/products/",
    "/reviews/",
    "/search/suggest/",
]


@require_GET
def robots_txt(request: HttpRequest, *, admin_path: str) -> HttpResponse:
    """Anyone. Allow all but the account, checkout, seller and staff paths; name the
    sitemap. `admin_path` is where config/urls.py mounted the admin (ADMIN_URL)."""
    lines = ["User-agent: *", "Allow: /"]
    lines += [f"Disallow: {path}" for path in [*ROBOTS_DISALLOW, admin_path]]
    lines += ["", f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


class SellerProfileCreateView(ActiveAccountRequiredMixin, FormView):
    """Verified users without a shop: "Become a seller"."""

    template_name = "marketplace/seller_profile_form.html"
    form_class = SellerProfileForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and seller_profile_for_user(request.user):
            return redirect("marketplace:seller-profile-update")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            creating=True, fee_percent=site_config_get().fee_percent, **kwargs
        )

    def form_valid(self, form):
        try:
            data = {k: v for k, v in form.cleaned_data.items() if k != "accept_agreement"}
            profile = seller_profile_create(
                user=self.request.user, ip=consent_ip(self.request), **data
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        messages.success(self.request, f"Welcome, {profile.display_name}! Your shop is open.")
        return redirect(profile)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class SellerProfileUpdateView(ActiveAccountRequiredMixin, SellerRequiredMixin, FormView):
    """The shop's owner: edit the public shop details."""

    template_name = "marketplace/seller_profile_form.html"

    def get_form(self, form_class=None):
        return SellerProfileUpdateForm(**self.get_form_kwargs(), profile=self.seller_profile)

    def get_context_data(self, **kwargs):
        return super().get_context_data(creating=False, profile=self.seller_profile, **kwargs)

    def form_valid(self, form):
        try:
            profile = seller_profile_update(profile=self.seller_profile, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        messages.success(self.request, "Your shop details are saved.")
        return redirect(profile)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


def ratelimited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """django-ratelimit's answer: a 429 page that says when to try again (the limiter
    may leave `request.retry_after`, in seconds; else a minute)."""
    retry_after = int(getattr(request, "retry_after", 0) or 60)
    response = render(request, "429.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response
