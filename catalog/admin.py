from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.html import format_html

from catalog.markdown import render_markdown
from catalog.models import (
    Category,
    DigitalAsset,
    Product,
    ProductImage,
    ProductSlugHistory,
    ShippingProfile,
    ShippingRate,
    Tag,
)
from catalog.services import product_take_down, product_take_down_lift
from marketplace.admin_audit import AuditedAdminMixin
from marketplace.exceptions import ApplicationError
from marketplace.templatetags.money import format_money


class TakeDownForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=Product._meta.get_field("takedown_reason").max_length,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Required. Each seller reads it on their listing, so write it for them.",
    )


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    extra = 0
    fields = ["thumbnail", "alt_text", "position", "width", "height"]
    readonly_fields = ["thumbnail", "width", "height"]

    @admin.display(description="picture")
    def thumbnail(self, obj: ProductImage) -> str:
        return format_html('<img src="{}" style="height:60px">', obj.card.url) if obj.card else ""


class DigitalAssetInline(admin.TabularInline):
    model = DigitalAsset
    extra = 0
    fields = [
        "original_name",
        "kind",
        "size_bytes",
        "sha256",
        "triangle_count",
        "is_previewable",
        "download_count",
        "removed_at",
    ]
    readonly_fields = [
        "original_name",
        "kind",
        "size_bytes",
        "sha256",
        "triangle_count",
        "download_count",
        "removed_at",
    ]
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # files come in through the seller's upload checks only


@admin.register(Product)
class ProductAdmin(AuditedAdminMixin, admin.ModelAdmin):
    # What buyers read: an admin edit of these is audited. Taking down and putting back
    # go through the services (audited there, with the seller's statement of reasons).
    audit_fields = ("title", "description", "category", "license", "stock_quantity")

    list_display = [
        "title",
        "seller",
        "kind",
        "price",
        "status",
        "is_taken_down",
        "published_at",
        "download_count",
    ]
    list_filter = ["status", "kind", "is_taken_down", "license", "category"]
    search_fields = ["title", "slug", "seller__email", "seller__seller_profile__display_name"]
    list_select_related = ["seller"]
    date_hierarchy = "created_at"
    raw_id_fields = ["cover_image"]
    filter_horizontal = ["tags"]
    # Money and counters are written by services only; the admin shows them. Owner, kind
    # and status are the seller's (through the publish checklist); staff moderate with
    # the take-down flag.
    readonly_fields = [
        "seller",
        "kind",
        "status",
        "taken_down_at",
        "price",  # price_cents, shown as an amount
        "currency",
        "shipping_profile",
        "download_count",
        "trending_score",
        "rating_count",
        "rating_sum",
        "description_html",
        "file_formats",
        "created_at",
        "updated_at",
        "published_at",
        "slug",
    ]
    exclude = ["price_cents"]  # read-only, shown as `price`
    inlines = [ProductImageInline, DigitalAssetInline]
    actions = ["take_down"]

    @admin.action(description="Take down selected listings (with a reason)", permissions=["change"])
    def take_down(self, request, queryset):
        """Intermediate page first; only its POST with `apply` and a reason takes the
        listings down (catalog.services.product_take_down)."""
        form = TakeDownForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = 0
            for product in queryset:
                try:
                    product_take_down(
                        product=product, reason=form.cleaned_data["reason"], staff=request.user
                    )
                except ApplicationError as exc:
                    self.message_user(request, f"“{product}”: {exc.message}", messages.ERROR)
                else:
                    done += 1
            if done:
                self.message_user(request, f"{done} listing(s) taken down.", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Take down listings",
            "opts": self.model._meta,
            "objects": queryset.select_related("seller"),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action": "take_down",
        }
        return TemplateResponse(
            request,
            "admin/catalog/product/take_down_confirmation.html",
            context,
            status=400 if form.is_bound else 200,
        )

    @admin.display(description="price", ordering="price_cents")
    def price(self, obj: Product) -> str:
        return "Free" if obj.price_cents == 0 else format_money(obj.price_cents, obj.currency)

    def save_model(self, request, obj: Product, form, change: bool) -> None:
        # The page shows description_html: without this, staff removing text from a
        # description would change nothing buyers see.
        if "description" in form.changed_data:
            obj.description_html = render_markdown(obj.description)
        super().save_model(request, obj, form, change)

    def perform_save(self, request, obj: Product, form, change: bool) -> None:
        # The take-down box: the rest of the form is saved as typed; the flag itself goes
        # through product_take_down / product_take_down_lift (audited, seller told).
        flip = change and "is_taken_down" in form.changed_data
        down, reason = obj.is_taken_down, obj.takedown_reason
        if flip:
            stored = Product.objects.get(pk=obj.pk)
            obj.is_taken_down, obj.taken_down_at = stored.is_taken_down, stored.taken_down_at
            obj.takedown_reason = stored.takedown_reason
        super().perform_save(request, obj, form, change)
        if not flip:
            return
        why = reason or form.cleaned_data.get("audit_reason", "")
        if down:
            product_take_down(product=obj, reason=why, staff=request.user)
        else:
            product_take_down_lift(
                product=obj, reason=form.cleaned_data.get("audit_reason", ""), staff=request.user
            )
        obj.refresh_from_db()


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "path", "position"]
    search_fields = ["name", "slug"]
    list_filter = ["depth"]
    readonly_fields = ["path", "depth"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # products point at categories (PROTECT); retire by renaming


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(DigitalAsset)
class DigitalAssetAdmin(admin.ModelAdmin):
    list_display = [
        "original_name",
        "product",
        "kind",
        "size_bytes",
        "download_count",
        "removed_at",
    ]
    list_filter = ["kind", "is_previewable"]
    search_fields = ["original_name", "sha256", "product__title"]
    readonly_fields = [f.name for f in DigitalAsset._meta.fields]
    list_select_related = ["product"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ProductImage)
class ProductImageAdmin(admin.ModelAdmin):
    list_display = ["product", "position", "width", "height"]
    raw_id_fields = ["product"]
    list_select_related = ["product"]


admin.site.register(ProductSlugHistory)


class ShippingRateInline(admin.TabularInline):
    model = ShippingRate
    extra = 0


@admin.register(ShippingProfile)
class ShippingProfileAdmin(admin.ModelAdmin):
    """Sellers edit their profiles in their workspace; staff may read and correct."""

    list_display = [
        "name",
        "seller",
        "origin_country",
        "processing_min_days",
        "processing_max_days",
    ]
    search_fields = ["name", "seller__email"]
    raw_id_fields = ["seller"]
    list_select_related = ["seller"]
    inlines = [ShippingRateInline]
