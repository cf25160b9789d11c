from django.contrib import admin

from marketplace.templatetags.money import format_money
from orders.models import Order, OrderEvent, OrderItem


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    fields = [
        "title",
        "seller",
        "quantity",
        "unit_price_cents",
        "subtotal_cents",
        "marketplace_fee_cents",
        "seller_net_cents",
        "shipping_allocated_cents",
        "fulfillment_status",
        "tracking_number",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "message", "actor"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Read-only: orders change only through services (money and status)."""

    list_display = ["id", "email", "buyer", "status", "total", "created_at", "paid_at"]
    list_filter = ["status", "currency"]
    search_fields = [
        "id",
        "email",
        "buyer__email",
        "stripe_checkout_session_id",
        "stripe_payment_intent_id",
    ]
    date_hierarchy = "created_at"
    list_select_related = ["buyer"]
    inlines = [OrderItemInline, OrderEventInline]
    exclude = ["access_token"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Order._meta.fields if f.name != "access_token"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="total", ordering="total_cents")
    def total(self, obj: Order) -> str:
        return format_money(obj.total_cents, obj.currency)
