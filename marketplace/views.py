from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.generic import FormView, TemplateView

from catalog.search import home_new, home_top_rated, home_trending
from catalog.selectors import (
    annotate_buyability,
    category_tree,
    product_list_for_shop,
)
from catalog.trending import annotate_trending_badge
from marketplace.access import SellerRequiredMixin, VerifiedEmailRequiredMixin
from marketplace.exceptions import ApplicationError
from marketplace.forms import SellerProfileForm, SellerProfileUpdateForm
from marketplace.health import health_report
from marketplace.selectors import (
    seller_profile_for_user,
    seller_profile_get_public,
    site_config_get,
)
from marketplace.services import seller_profile_create, seller_profile_update

HOME_NEW_LISTINGS = 8


class HomeView(TemplateView):
    """Anyone. The storefront: trending (staff pins first), new arrivals, top rated and
    the categories; each row asks catalog.search, by the same rules as the browse sorts."""

    template_name = "marketplace/home.html"

    def get_context_data(self, **kwargs):
        user = self.request.user

        def cards(queryset):
            return annotate_trending_badge(annotate_buyability(queryset, user=user))

        return super().get_context_data(
            trending_products=cards(home_trending(limit=HOME_NEW_LISTINGS)),
            latest_products=cards(home_new(limit=HOME_NEW_LISTINGS)),
            top_rated_products=cards(home_top_rated(limit=HOME_NEW_LISTINGS)),
            categories=category_tree(),
            **kwargs,
        )


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Anyone (load balancers, uptime checks). 200 when every dependency is up, else 503."""
    ok, checks = health_report()
    return JsonResponse(
        {"status": "ok" if ok else "down", "checks": checks}, status=200 if ok else 503
    )


class SellerProfileCreateView(VerifiedEmailRequiredMixin, FormView):
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
            profile = seller_profile_create(user=self.request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        messages.success(self.request, f"Welcome, {profile.display_name}! Your shop is open.")
        return redirect(profile)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class SellerProfileUpdateView(SellerRequiredMixin, FormView):
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


class ShopDetailView(View):
    """Anyone. A seller's public shop page."""

    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        profile = seller_profile_get_public(slug=slug)
        if profile is None:
            raise Http404("No shop at this address.")
        return render(
            request,
            "marketplace/shop_detail.html",
            {
                "profile": profile,
                "is_owner": request.user == profile.user,
                "products": product_list_for_shop(seller=profile.user, user=request.user),
            },
        )


def ratelimited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """django-ratelimit's answer: a 429 page that says when to try again."""
    retry_after = 60
    response = render(request, "429.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response
