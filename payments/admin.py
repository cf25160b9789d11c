"""Staff views of payments. Everything here is read-only: money state changes only
through services (webhook processing, payouts, the ledger), never by editing a row."""

from django.contrib import admin, messages
from django.utils.html import format_html

from marketplace.audit import staff_action
from marketplace.templatetags.money import format_money
from payments.models import (
    PaymentRefund,
    PlatformLedgerEntry,
    SellerBalanceEntry,
    SellerStripeAccount,
    SellerTransfer,
    StripeEvent,
)
from payments.services import stripe_event_process, stripe_event_reset

# Imported for its models (the simulator's "Stripe side"), registered below.
from payments.simulator import SimulatedAccount, SimulatedCheckoutSession


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


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

    @admin.action(description="Process again now (handlers are idempotent)")
    def reprocess(self, request, queryset) -> None:
        if not request.user.has_perm("payments.change_stripeevent"):
            self.message_user(request, "You may not reprocess events.", messages.ERROR)
            return
        done = failed = 0
        for row_id in queryset.values_list("pk", flat=True):
            event = StripeEvent.objects.get(pk=row_id)
            staff_action(
                actor=request.user,
                action="stripe_event.reprocess",
                target=event,
                reason="Processed again from the admin.",
                before={"status": event.status},
                after={},
            )
            stripe_event_reset(event_row_id=row_id)
            try:
                stripe_event_process(event_row_id=row_id)
                done += 1
            except Exception as exc:  # recorded on the row as last_error
                failed += 1
                self.message_user(request, f"Event row {row_id}: {exc}", messages.ERROR)
        self.message_user(request, f"Reprocessed {done} event(s); {failed} failed.")


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
