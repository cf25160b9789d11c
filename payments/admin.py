"""Staff views of payments. Everything here is read-only: money state changes only
through services (webhook processing, payouts, the ledger), never by editing a row."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from marketplace.admin_display import ReadOnlyAdmin
from marketplace.templatetags.money import format_money
from payments.models import (
    PaymentRefund,
    PlatformLedgerEntry,
    SellerBalanceEntry,
    SellerStripeAccount,
    SellerTransfer,
    StripeEvent,
)

# Imported for its models (the simulator's "Stripe side"), registered below.
from payments.simulator import SimulatedAccount, SimulatedCheckoutSession


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = [
        "stripe_event_id",
        "type",
        "endpoint",
        "status_badge",
        "attempts",
        "account",
        "received_at",
        "processed_at",
    ]
    list_filter = ["status", "endpoint", "type", "livemode"]
    search_fields = ["stripe_event_id", "type", "account"]
    date_hierarchy = "received_at"
    readonly_fields = [f.name for f in StripeEvent._meta.fields]
    actions = ["reprocess"]

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: StripeEvent) -> str:
        color = {"FAILED": "#b91c1c", "PROCESSED": "#15803d", "IGNORED": "#6b7280"}.get(
            obj.status, "#b45309"
        )
        return format_html('<strong style="color:{}">{}</strong>', color, obj.get_status_display())

    @admin.action(description="Reprocess (asks for a reason; audited)")
    def reprocess(self, request, queryset):
        """Sends staff to the guarded confirmation page (reason required, written to the
        staff action log by `payments.reprocess.stripe_event_reprocess`), one event at a
        time so each reason is about one event."""
        ids = list(queryset.values_list("pk", flat=True)[:2])
        if len(ids) != 1:
            self.message_user(request, "Pick exactly one event to reprocess.", messages.ERROR)
            return None
        return HttpResponseRedirect(
            reverse("payments:staff-stripe-event-reprocess", kwargs={"pk": ids[0]})
        )


@admin.register(SellerStripeAccount)
class SellerStripeAccountAdmin(ReadOnlyAdmin):
    list_display = [
        "stripe_account_id",
        "seller",
        "details_submitted",
        "charges_enabled",
        "payouts_enabled",
        "disconnected_at",
        "updated_at",
    ]
    list_filter = [
        "details_submitted",
        "charges_enabled",
        "payouts_enabled",
        ("disconnected_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["stripe_account_id", "seller__email"]
    readonly_fields = [f.name for f in SellerStripeAccount._meta.fields]


@admin.register(SellerTransfer)
class SellerTransferAdmin(ReadOnlyAdmin):
    list_display = [
        "idempotency_key",
        "seller",
        "amount",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "stripe_transfer_id",
    ]
    list_filter = ["status", "currency"]
    search_fields = ["idempotency_key", "stripe_transfer_id", "seller__email", "order__id"]
    readonly_fields = [f.name for f in SellerTransfer._meta.fields]

    @admin.display(description="amount", ordering="amount_cents")
    def amount(self, obj: SellerTransfer) -> str:
        return format_money(obj.amount_cents, obj.currency)


@admin.register(SellerBalanceEntry)
class SellerBalanceEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "seller", "reason", "amount", "order", "stripe_object_id"]
    list_filter = ["reason", "currency"]
    search_fields = ["idempotency_key", "stripe_object_id", "seller__email"]
    readonly_fields = [f.name for f in SellerBalanceEntry._meta.fields]

    @admin.display(description="amount", ordering="amount_cents")
    def amount(self, obj: SellerBalanceEntry) -> str:
        return format_money(obj.amount_cents, obj.currency)


@admin.register(PlatformLedgerEntry)
class PlatformLedgerEntryAdmin(ReadOnlyAdmin):
    """The platform's own side: Σ per order is the marketplace's margin on it."""

    list_display = ["created_at", "order", "reason", "amount", "stripe_object_id"]
    list_filter = ["reason", "currency"]
    search_fields = ["idempotency_key", "stripe_object_id", "order__id"]
    readonly_fields = [f.name for f in PlatformLedgerEntry._meta.fields]

    @admin.display(description="amount", ordering="amount_cents")
    def amount(self, obj: PlatformLedgerEntry) -> str:
        return format_money(obj.amount_cents, obj.currency)


@admin.register(PaymentRefund)
class PaymentRefundAdmin(ReadOnlyAdmin):
    list_display = [
        "idempotency_key",
        "order",
        "reason",
        "amount",
        "status",
        "attempts",
        "last_error",
        "stripe_refund_id",
        "refunded_at",
    ]
    list_filter = ["status", "reason"]
    search_fields = ["idempotency_key", "stripe_refund_id", "order__id", "order__email"]
    readonly_fields = [f.name for f in PaymentRefund._meta.fields]

    @admin.display(description="amount", ordering="amount_cents")
    def amount(self, obj: PaymentRefund) -> str:
        return format_money(obj.amount_cents, obj.currency)


@admin.register(SimulatedCheckoutSession)
class SimulatedCheckoutSessionAdmin(ReadOnlyAdmin):
    list_display = ["id", "order_id", "status", "payment_status", "amount_total", "created_at"]
    list_filter = ["status", "payment_status"]
    readonly_fields = [f.name for f in SimulatedCheckoutSession._meta.fields]


@admin.register(SimulatedAccount)
class SimulatedAccountAdmin(ReadOnlyAdmin):
    list_display = ["id", "seller_id", "details_submitted", "charges_enabled", "payouts_enabled"]
    readonly_fields = [f.name for f in SimulatedAccount._meta.fields]
