from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from marketplace.admin_audit import AuditedAdminMixin
from marketplace.admin_display import ReadOnlyAdmin, admin_money
from marketplace.legal import legal_cache_clear
from marketplace.models import LegalAcceptance, LegalDocument, SellerProfile, SiteConfig, User
from marketplace.selectors import site_config_get
from marketplace.services import site_config_update


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    """`is_active` is account closure; suspension is moderation's (read-only here:
    moderation's admin adds Suspend / Unsuspend actions that call its services)."""

    audit_fields = ("email", "is_active", "is_staff", "is_superuser", "is_suspended")
    ordering = ["email"]
    list_display = [
        "email",
        "name",
        "is_staff",
        "is_active",
        "is_suspended",
        "date_joined",
        "last_login",
    ]
    list_filter = ["is_staff", "is_superuser", "is_active", "is_suspended"]
    search_fields = ["email", "name"]
    readonly_fields = ["date_joined", "last_login", "is_suspended", "deleted_at"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["name", "display_name", "avatar", "deleted_at"]}),
        (
            "Permissions",
            {
                "fields": [
                    "is_active",
                    "is_suspended",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                ]
            },
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


@admin.register(SellerProfile)
class SellerProfileAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_fields = ("display_name", "slug", "user")

    list_display = ["display_name", "slug", "user", "created_at"]
    search_fields = ["display_name", "slug", "user__email"]
    list_select_related = ["user"]
    readonly_fields = ["created_at", "updated_at"]
    raw_id_fields = ["user"]


@admin.register(SiteConfig)
class SiteConfigAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """One row: the list page goes straight to it; it can be neither added nor deleted.
    Every change of a value is audited with its reason."""

    audit_fields = tuple(
        f.name for f in SiteConfig._meta.concrete_fields if f.name not in ("id", "updated_at")
    )

    # Each value typed in basis points or cents is followed by how it reads (saved value).
    SHOWN_AFTER = {
        "fee_bps": "fee_percent",
        "min_price_cents": "min_price",
        "fee_fixed_cents": "fixed_fee",
    }
    readonly_fields = ["updated_at", *SHOWN_AFTER.values()]

    min_price = admin_money("min_price_cents", "minimum price", currency_field=None)
    fixed_fee = admin_money("fee_fixed_cents", "fixed fee per seller order", currency_field=None)

    @admin.display(description="fee as a percentage")
    def fee_percent(self, obj: SiteConfig) -> str:
        return obj.fee_percent

    def get_fields(self, request, obj=None):
        fields = []
        for name in super().get_fields(request, obj):
            if name in self.SHOWN_AFTER.values():
                continue
            fields.append(name)
            if name in self.SHOWN_AFTER:
                fields.append(self.SHOWN_AFTER[name])
        return fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        config = site_config_get()
        return HttpResponseRedirect(
            reverse("admin:marketplace_siteconfig_change", args=[config.pk])
        )

    def perform_save(self, request, obj, form, change) -> None:
        site_config_update(config=obj)


@admin.register(LegalDocument)
class LegalDocumentAdmin(admin.ModelAdmin):
    """Staff write legal texts here. A change is a new version (a new row: "Add", the
    version number filled in); a version once in effect is read-only and cannot be deleted,
    so what people accepted stays readable as it was. A version dated in the future can be
    edited until it takes effect."""

    list_display = ["kind", "version", "effective_at", "summary_of_changes", "in_effect"]
    list_filter = ["kind"]
    ordering = ["kind", "-version"]
    fields = ["kind", "version", "effective_at", "summary_of_changes", "body"]

    @admin.display(boolean=True, description="in effect")
    def in_effect(self, obj: LegalDocument) -> bool:
        return obj.effective_at <= timezone.now()

    def _published(self, obj) -> bool:
        return obj is not None and obj.pk is not None and obj.effective_at <= timezone.now()

    def get_readonly_fields(self, request, obj=None):
        if self._published(obj):
            return self.fields
        return []

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and not self._published(obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if "version" in form.base_fields:
            form.base_fields["version"].required = False
            form.base_fields["version"].help_text = "Leave blank for the next version."
        return form

    def save_model(self, request, obj, form, change):
        if (
            change
            and LegalDocument.objects.filter(pk=obj.pk, effective_at__lte=timezone.now()).exists()
        ):
            return  # a version in effect never changes (its fields are read-only too)
        if not obj.version:
            latest = LegalDocument.objects.filter(kind=obj.kind).order_by("-version").first()
            obj.version = latest.version + 1 if latest else 1
        super().save_model(request, obj, form, change)
        legal_cache_clear()


@admin.register(LegalAcceptance)
class LegalAcceptanceAdmin(ReadOnlyAdmin):
    """Proof of consent: read-only."""

    list_display = ["document", "user", "order_id", "accepted_at", "ip"]
    list_filter = ["document__kind"]
    search_fields = ["user__email", "order_id"]
    list_select_related = ["document", "user"]
