from django.contrib import admin

from marketplace.admin_display import admin_money, admin_percent
from marketplace.templatetags.money import format_bps, format_money
from orders.models import Order, OrderEvent, OrderItem

# Money and rate columns as staff read them: amounts in the row's currency, fees as a
# percentage. The admin is read-only, so the stored minor units are never typed here.
ORDER_SHOWN_AS = {
    "fee_bps": "fee_rate",
    "fee_fixed_cents": "fixed_fee",
    "subtotal_cents": "subtotal",
    "shipping_cents": "shipping",
    "tax_cents": "tax",
    "total_cents": "total",
    "amount_charged_cents": "amount_charged",
}


class OrderItemInline(admin.TabularInline):
    """One row per line, narrow enough for a 1280 px screen: each row's heading already
    reads "2 × title", so the columns are who sells it, the money split and where it is."""

    model = OrderItem
    extra = 0
    can_delete = False
    fields = [
        "seller",
        "subtotal",
        "fee",
        "seller_net",
        "shipping_share",
        "refunded",
        "fulfillment",
    ]
    readonly_fields = fields

    subtotal = admin_money("subtotal_cents", "subtotal")
    seller_net = admin_money("seller_net_cents", "seller net")
    shipping_share = admin_money("shipping_allocated_cents", "shipping share")
    refunded = admin_money("refunded_cents", "refunded")

    @admin.display(description="marketplace fee")
    def fee(self, obj: OrderItem) -> str:
        return (
            f"{format_money(obj.marketplace_fee_cents, obj.currency)} ({format_bps(obj.fee_bps)})"
        )

    @admin.display(description="fulfilment")
    def fulfillment(self, obj: OrderItem) -> str:
        status = obj.get_fulfillment_status_display()
        return f"{status}, tracking {obj.tracking_number}" if obj.tracking_number else status

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

    def get_fields(self, request, obj=None):
        return [
            ORDER_SHOWN_AS.get(f.name, f.name)
            for f in Order._meta.fields
            if f.name != "access_token"
        ]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    fee_rate = admin_percent("fee_bps", "fee rate")
    fixed_fee = admin_money("fee_fixed_cents", "fixed fee per seller")
    subtotal = admin_money("subtotal_cents", "subtotal")
    shipping = admin_money("shipping_cents", "shipping")
    tax = admin_money("tax_cents", "tax")
    total = admin_money("total_cents", "total")
    amount_charged = admin_money(
        "amount_charged_cents", "amount charged", currency_field="charged_currency"
    )
