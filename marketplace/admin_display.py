"""Admin columns for money: every app's admin shows amounts, never raw minor units."""

from django.conf import settings
from django.contrib import admin

from marketplace.templatetags.money import format_bps, format_money


def admin_money(field: str, label: str, *, currency_field: str | None = "currency"):
    """An admin display method showing the minor-unit column `field` as an amount in the
    row's own currency (`currency_field`; None: a site-wide setting in DEFAULT_CURRENCY,
    like SiteConfig's); "—" when empty."""

    @admin.display(description=label, ordering=field)
    def show(model_admin, obj) -> str:
        cents = getattr(obj, field)
        if cents is None:
            return "—"
        currency = getattr(obj, currency_field) if currency_field else settings.DEFAULT_CURRENCY
        return format_money(cents, currency)

    return show


def admin_percent(field: str, label: str):
    """An admin display method showing the basis-points column `field` as a percentage."""

    @admin.display(description=label, ordering=field)
    def show(model_admin, obj) -> str:
        bps = getattr(obj, field)
        return "—" if bps is None else format_bps(bps)

    return show


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by services (logs, ledgers, proofs of consent): staff read them
    in the admin, never add, edit or delete them there."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
