from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from catalog import hooks, services
from catalog.forms import (
    BrowseForm,
    DigitalAssetUploadForm,
    ListingForm,
    ProductImageUploadForm,
    ShippingProfileForm,
    ShippingRateFormSet,
    rate_initial,
)
from catalog.models import Category, Product, ShippingProfile
from catalog.reviews import product_reviews_context
from catalog.search import (
    SEARCH_QUERY_MAX_LENGTH,
    SORTS,
    BrowseFilters,
    cents_from_text,
    home_new,
    home_top_rated,
    home_trending,
    product_browse,
    product_suggestions,
    products_like,
    search_did_you_mean,
)
from catalog.selectors import (
    annotate_buyability,
    category_tree,
    product_gallery,
    product_get_for_seller,
    product_get_visible,
    product_list_for_seller,
    product_list_for_shop,
    product_live_assets,
    shipping_profile_get_for_seller,
    shipping_profiles_for_seller,
)
from catalog.seo import category_seo, product_seo, shop_seo
from catalog.trending import annotate_trending_badge
from marketplace.access import ActiveAccountRequiredMixin, SellerRequiredMixin
from marketplace.exceptions import ApplicationError
from marketplace.http import client_ip
from marketplace.pagination import CappedCountPaginator
from marketplace.ratelimits import rate_limit
from marketplace.selectors import seller_profile_get_public

# ------------------------------------------------------------------------------
# Public pages
# ------------------------------------------------------------------------------
HOME_NEW_LISTINGS = 8


class HomeView(TemplateView):
    """Anyone. The storefront: trending (staff pins first), new arrivals, top rated and
    the categories; each row asks catalog.search, by the same rules as the browse sorts."""

    template_name = "marketplace/home.html"  # the storefront template, kept in place

    def get_context_data(self, **kwargs):
        user = self.request.user

        def cards(queryset):
            return annotate_trending_badge(annotate_buyability(queryset, user=user))

        top_rated, top_rated_notices = home_top_rated(limit=HOME_NEW_LISTINGS)
        return super().get_context_data(
            trending_products=cards(home_trending(limit=HOME_NEW_LISTINGS)),
            latest_products=cards(home_new(limit=HOME_NEW_LISTINGS)),
            top_rated_products=cards(top_rated),
            top_rated_notices=top_rated_notices,
            categories=category_tree(),
            **kwargs,
        )


class ShopDetailView(View):
    """Anyone. A seller's public shop page: the shop (marketplace) and its listings.
    A suspended seller's shop is a 404 except to them and staff."""

    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        profile = seller_profile_get_public(slug=slug, viewer=request.user)
        if profile is None:
            raise Http404("No shop at this address.")
        return render(
            request,
            "marketplace/shop_detail.html",
            {
                "profile": profile,
                "seo": shop_seo(request=request, profile=profile),
                "is_owner": request.user == profile.user,
                "products": annotate_trending_badge(
                    product_list_for_shop(seller=profile.user, user=request.user)
                ),
            },
        )


class ProductDetailView(View):
    """Anyone may see a published listing; its seller and staff also see it while it is
    a draft, archived or taken down. Everyone else: 404. Old slugs redirect (301)."""

    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        lookup = product_get_visible(slug=slug, user=request.user)
        if lookup.redirect_to is not None:
            return redirect(lookup.redirect_to, permanent=True)
        if lookup.product is None:
            raise Http404("No such listing.")
        product = annotate_buyability([lookup.product], user=request.user)[0]
        assets = product_live_assets(product) if product.is_file else []
        previews = [a for a in assets if a.is_previewable and a.preview]
        # analytics: the throttled VIEW signal, per user or client IP. No session is
        # made for it: a cookie-less view writes no session row.
        hooks.product_view_record(
            product_id=product.pk,
            seller_id=product.seller_id,
            user=request.user,
            session_key=request.session.session_key or "",
            user_agent=request.headers.get("User-Agent", ""),
            # A card link says where it was (`?src=search&q=…`): a CLICK for analytics.
            source=(request.GET.get("src") or "")[:10],
            query=(request.GET.get("q") or "")[:200],
            client_ip=client_ip(request),
        )
        is_owner = request.user.is_authenticated and product.seller_id == request.user.pk
        can_download = product.is_file and hooks.product_download_entitled(
            product=product, user=request.user
        )
        images = product_gallery(product)
        seller_profile = getattr(product.seller, "seller_profile", None)
        response = render(
            request,
            "catalog/product_detail.html",
            {
                "p": product,
                "images": images,
                "seo": product_seo(
                    request=request, product=product, seller_profile=seller_profile, images=images
                ),
                "assets": assets,
                "preview_asset": previews[0] if previews else None,
                "is_owner": is_owner,
                "can_download": can_download,
                "owned": product.is_file
                and not is_owner
                and hooks.product_file_purchased(product=product, user=request.user),
                "seller_profile": seller_profile,
                "spec_rows": product_spec_rows(product),
                **product_reviews_context(
                    product=product,
                    user=request.user,
                    sort=request.GET.get("review_sort", "newest"),
                    page=request.GET.get("review_page", 1),
                ),
                # Staff only: how many open reports the listing and its Q&A have.
                "staff_open_reports": hooks.product_open_reports(product_id=product.pk)
                if request.user.is_staff
                else {},
                "more_like_this": annotate_trending_badge(
                    annotate_buyability(products_like(product), user=request.user)
                ),
                # messaging's section, when installed (catalog/hooks.py)
                "product_questions": hooks.product_questions(
                    product=product, user=request.user, page=request.GET.get("qpage", 1)
                ),
            },
        )
        return response


def _dimensions(x, y, z, *, digits: str = "-1") -> str:
    """ "120 × 80 × 40 mm"; an axis the seller left out is "?"; "" when none is given."""
    if not (x or y or z):
        return ""
    axes = [floatformat(v, digits) if v is not None else "?" for v in (x, y, z)]
    return f"{' × '.join(axes)} mm"


def product_spec_rows(product: Product) -> list[tuple[str, str]]:
    """The product page's spec table as (label, text), only the rows the seller filled
    in: print settings for a file, item details for a printed item."""
    if product.is_file:
        supports = {True: "Yes", False: "No"}.get(product.supports_needed, "")
        rows = [
            ("Recommended material", product.print_material),
            (
                "Layer height",
                f"{floatformat(product.layer_height_mm, '-2')} mm"
                if product.layer_height_mm is not None
                else "",
            ),
            (
                "Infill",
                f"{product.infill_percent}%" if product.infill_percent is not None else "",
            ),
            ("Supports", supports),
            ("Print time", product.print_time_display),
            (
                "Bed size needed",
                _dimensions(
                    product.bed_min_x_mm, product.bed_min_y_mm, product.bed_min_z_mm, digits="0"
                ),
            ),
            ("Model size", _dimensions(product.size_x_mm, product.size_y_mm, product.size_z_mm)),
        ]
    else:
        profile = product.shipping_profile
        rows = [
            ("Material", product.material),
            ("Colour", product.colour),
            ("Dimensions", _dimensions(product.size_x_mm, product.size_y_mm, product.size_z_mm)),
            ("Weight", f"{product.weight_grams} g" if product.weight_grams else ""),
            ("Processing time", profile.processing_label if profile else ""),
            ("Ships from", profile.origin_country.name if profile else ""),
        ]
    return [(label, text) for label, text in rows if text]


BROWSE_PAGE_SIZE = 24


class BrowseView(View):
    """Anyone. Browse, search and category pages: filters and sort in the URL."""

    template_name = "catalog/browse.html"

    def get(self, request: HttpRequest, slug: str | None = None) -> HttpResponse:
        category = None
        if slug is not None:
            category = get_object_or_404(Category.objects.select_related("parent"), slug=slug)
        form = BrowseForm(request.GET or None)
        data = form.cleaned_data if form.is_valid() else {}
        if category is None and data.get("category"):
            category = Category.objects.filter(slug=data["category"]).first()
        filters = BrowseFilters(
            q=(data.get("q") or "").strip(),
            category=category,
            kind=data.get("kind") or "",
            price=data.get("price") or "",
            min_price_cents=cents_from_text(data.get("min_price")),
            max_price_cents=cents_from_text(data.get("max_price")),
            min_rating=data.get("min_rating"),
            license=data.get("license") or "",
            file_format=data.get("file_format") or "",
            sort=data.get("sort") or "",
        )
        result = product_browse(filters=filters)
        paginator = CappedCountPaginator(result.products, BROWSE_PAGE_SIZE, cap=result.count_cap)
        page = paginator.get_page(request.GET.get("page"))
        products = annotate_trending_badge(annotate_buyability(page.object_list, user=request.user))
        did_you_mean_url = did_you_mean = None
        if filters.q and page.paginator.count == 0:
            hooks.search_miss_record(query=filters.q)
            did_you_mean = search_did_you_mean(filters=filters)
            if did_you_mean:
                query = request.GET.copy()
                query["q"] = did_you_mean
                query.pop("page", None)
                did_you_mean_url = f"{request.path}?{query.urlencode()}"
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "filters": filters,
                "category": category,
                "seo": category_seo(request=request, category=category) if category else None,
                "children": list(category.children.order_by("position")) if category else [],
                "categories": category_tree() if category is None else [],
                "page": page,
                "products": products,
                "result": result,
                "sorts": SORTS,
                "did_you_mean": did_you_mean,
                "did_you_mean_url": did_you_mean_url,
                "q_shortened": form.q_shortened,
                "q_max_length": SEARCH_QUERY_MAX_LENGTH,
            },
            status=200 if form.is_valid() or not request.GET else 400,
        )


@rate_limit(
    group="autocomplete", rates=("AUTOCOMPLETE_RATE", "AUTOCOMPLETE_RATE_IP"), methods=("GET",)
)
def search_suggest(request: HttpRequest) -> JsonResponse:
    """Anyone. Autocomplete titles for the search box (JSON)."""
    q = (request.GET.get("q") or "")[:100]
    return JsonResponse({"q": q, "suggestions": product_suggestions(q=q)})


# ------------------------------------------------------------------------------
# Seller workspace: every view is SellerRequiredMixin (and every write also
# ActiveAccountRequiredMixin: a suspended seller gets the 403 page) and loads only the seller's own
# listings (product_get_for_seller), so another seller's listing is a plain 404.
# ------------------------------------------------------------------------------
class SellerProductMixin(ActiveAccountRequiredMixin, SellerRequiredMixin):
    def get_product(self) -> Product:
        product = product_get_for_seller(seller=self.request.user, pk=self.kwargs["pk"])
        if product is None:
            raise Http404("No such listing.")
        return product


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


class SellerListingListView(SellerRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        status = request.GET.get("status")
        if status not in Product.Status.values:
            status = None
        products = product_list_for_seller(seller=request.user, status=status)
        return render(
            request,
            "catalog/seller/listing_list.html",
            {"products": products, "status": status, "statuses": Product.Status.choices},
        )


class SellerListingCreateView(ActiveAccountRequiredMixin, SellerRequiredMixin, View):
    def _kind(self, request: HttpRequest) -> str | None:
        kind = (request.POST.get("kind") or request.GET.get("kind") or "").upper()
        return kind if kind in Product.Kind.values else None

    def get(self, request: HttpRequest) -> HttpResponse:
        kind = self._kind(request)
        if kind is None:
            return render(request, "catalog/seller/listing_kind.html")
        return render(
            request,
            "catalog/seller/listing_form.html",
            {"form": ListingForm(kind=kind, seller=request.user), "kind": kind, "creating": True},
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        kind = self._kind(request)
        if kind is None:
            messages.error(request, "Choose whether you sell a digital file or a printed item.")
            return render(request, "catalog/seller/listing_kind.html", status=400)
        form = ListingForm(request.POST, kind=kind, seller=request.user)
        if form.is_valid():
            try:
                product = services.product_create(
                    seller=request.user, kind=kind, **form.service_values()
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Draft saved. Add pictures and files, then publish.")
                return redirect("catalog:seller-listing-update", pk=product.pk)
        return render(
            request,
            "catalog/seller/listing_form.html",
            {"form": form, "kind": kind, "creating": True},
            status=400,
        )


class SellerListingUpdateView(SellerProductMixin, View):
    def _render(self, request, product, form, status=200, **extra):
        checklist = services.product_publish_checklist(product)
        return render(
            request,
            "catalog/seller/listing_form.html",
            {
                "form": form,
                "kind": product.kind,
                "creating": False,
                "product": product,
                "images": product_gallery(product),
                "assets": product_live_assets(product),
                "checklist": checklist,
                "image_form": extra.get("image_form") or ProductImageUploadForm(),
                "asset_form": extra.get("asset_form") or DigitalAssetUploadForm(),
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        product = self.get_product()
        return self._render(request, product, ListingForm(kind=product.kind, product=product))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        product = self.get_product()
        form = ListingForm(request.POST, kind=product.kind, product=product)
        if form.is_valid():
            try:
                product = services.product_update(product=product, **form.service_values())
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Listing saved.")
                return redirect("catalog:seller-listing-update", pk=product.pk)
        return self._render(request, product, form, status=400)


class SellerListingActionView(SellerProductMixin, View):
    """POST-only state changes: publish, unpublish, archive, duplicate."""

    action: str = ""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        product = self.get_product()
        try:
            if self.action == "publish":
                services.product_publish(product=product)
                messages.success(request, f"“{product.title}” is live.")
            elif self.action == "unpublish":
                services.product_unpublish(product=product)
                messages.success(request, f"“{product.title}” is back to draft.")
            elif self.action == "archive":
                services.product_archive(product=product)
                messages.success(request, f"“{product.title}” is archived.")
            elif self.action == "duplicate":
                copy = services.product_duplicate(product=product)
                messages.success(request, "Copied. You are editing the copy (a draft).")
                return redirect("catalog:seller-listing-update", pk=copy.pk)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(
                reverse("catalog:seller-listing-update", kwargs={"pk": product.pk}) + "#checklist"
            )
        return redirect("catalog:seller-listing-update", pk=product.pk)


class _UploadView(SellerProductMixin, View):
    """Shared shape of the two upload endpoints: plain multipart POST that redirects back
    with a message, or (the progress-bar enhancement) JSON for XHR callers."""

    form_class = None

    def handle(self, product: Product, form) -> str:  # returns the success message
        raise NotImplementedError

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        product = self.get_product()
        form = self.form_class(request.POST, request.FILES)
        error = None
        if form.is_valid():
            try:
                message = self.handle(product, form)
            except ApplicationError as exc:
                error = exc.message
        else:
            error = " ".join(e for errors in form.errors.values() for e in errors)
        back = reverse("catalog:seller-listing-update", kwargs={"pk": product.pk})
        if _wants_json(request):
            if error:
                return JsonResponse({"ok": False, "error": error}, status=400)
            # The script reloads the edit page next: the message shows there.
            messages.success(request, message)
            return JsonResponse({"ok": True, "message": message, "redirect": back})
        if error:
            messages.error(request, error)
            return redirect(back + "#uploads")
        messages.success(request, message)
        return redirect(back + "#uploads")


class SellerImageUploadView(_UploadView):
    form_class = ProductImageUploadForm

    def handle(self, product, form) -> str:
        services.product_image_add(
            product=product,
            upload=form.cleaned_data["image"],
            alt_text=form.cleaned_data["alt_text"],
        )
        return "Image added."


class SellerAssetUploadView(_UploadView):
    form_class = DigitalAssetUploadForm

    def handle(self, product, form) -> str:
        asset = services.digital_asset_add(
            product=product,
            upload=form.cleaned_data["file"],
            is_previewable=form.cleaned_data["is_previewable"],
        )
        return f"“{asset.original_name}” added ({asset.get_kind_display()})."


class SellerImageActionView(SellerProductMixin, View):
    action: str = ""

    def post(self, request: HttpRequest, pk: int, image_pk: int) -> HttpResponse:
        product = self.get_product()
        image = get_object_or_404(product.images, pk=image_pk)
        try:
            if self.action == "delete":
                services.product_image_remove(image=image)
                messages.success(request, "Image removed.")
            else:
                services.product_image_make_cover(image=image)
                messages.success(request, "Cover image changed.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect(reverse("catalog:seller-listing-update", kwargs={"pk": pk}) + "#uploads")


class SellerAssetDeleteView(SellerProductMixin, View):
    def post(self, request: HttpRequest, pk: int, asset_pk: int) -> HttpResponse:
        product = self.get_product()
        asset = get_object_or_404(product.assets.filter(removed_at__isnull=True), pk=asset_pk)
        try:
            services.digital_asset_remove(asset=asset)
            messages.success(request, f"“{asset.original_name}” removed from the listing.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect(reverse("catalog:seller-listing-update", kwargs={"pk": pk}) + "#uploads")


# ------------------------------------------------------------------------------
# Seller workspace: shipping profiles (only the seller's own; anyone else's is a 404)
# ------------------------------------------------------------------------------
class SellerShippingListView(SellerRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return render(
            request,
            "catalog/seller/shipping_list.html",
            {"profiles": shipping_profiles_for_seller(seller=request.user)},
        )


class SellerShippingEditView(ActiveAccountRequiredMixin, SellerRequiredMixin, View):
    """Create (no pk) or edit one of the seller's shipping profiles."""

    def _profile(self, pk: int | None) -> ShippingProfile | None:
        if pk is None:
            return None
        profile = shipping_profile_get_for_seller(seller=self.request.user, pk=pk)
        if profile is None:
            raise Http404("No such shipping profile.")
        return profile

    def _render(self, request, profile, form, rates, status=200):
        return render(
            request,
            "catalog/seller/shipping_form.html",
            {"profile": profile, "form": form, "rates": rates},
            status=status,
        )

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        profile = self._profile(pk)
        if profile is None:
            form = ShippingProfileForm()
            rates = ShippingRateFormSet(prefix="rates")
        else:
            form = ShippingProfileForm(initial=ShippingProfileForm.initial_from(profile))
            rates = ShippingRateFormSet(prefix="rates", initial=rate_initial(profile))
        return self._render(request, profile, form, rates)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        profile = self._profile(pk)
        form = ShippingProfileForm(request.POST)
        rates = ShippingRateFormSet(request.POST, prefix="rates")
        if form.is_valid() and rates.is_valid():
            try:
                if profile is None:
                    services.shipping_profile_create(
                        seller=request.user, rates=rates.rates(), **form.service_values()
                    )
                else:
                    services.shipping_profile_update(
                        profile=profile, rates=rates.rates(), **form.service_values()
                    )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Shipping profile saved.")
                return redirect("catalog:seller-shipping-list")
        return self._render(request, profile, form, rates, status=400)


class SellerShippingDeleteView(ActiveAccountRequiredMixin, SellerRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        profile = shipping_profile_get_for_seller(seller=request.user, pk=pk)
        if profile is None:
            raise Http404("No such shipping profile.")
        try:
            services.shipping_profile_delete(profile=profile)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"“{profile.name}” deleted.")
        return redirect("catalog:seller-shipping-list")
