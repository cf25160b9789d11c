"""Staff views of refund requests. Read-only: a request changes only through
`refunds.services`. The one action, "Refund with a reason", goes through an intermediate
confirmation page that requires a reason, then calls `refund_line_initiate` for each
selected request (which approves a waiting request)."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from marketplace.exceptions import ApplicationError
from marketplace.templatetags.money import format_money
from refunds.forms import StaffRefundReasonForm
from refunds.models import RefundRequest
from refunds.services import refund_line_initiate


@admin.register(RefundRequest)
class RefundRequestAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "order_link",
        "item_title",
        "initiated_by",
        "reason",
        "status",
        "requested",
        "approved",
        "created_at",
    ]
    list_filter = ["status", "initiated_by", "reason"]
    search_fields = ["order_item__title", "order_item__order__email", "stripe_refund_id"]
    date_hierarchy = "created_at"
    list_select_related = ["order_item"]
    readonly_fields = [f.name for f in RefundRequest._meta.fields]
    actions = ["refund_with_reason"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="order", ordering="order_item__order_id")
    def order_link(self, obj: RefundRequest) -> str:
        url = reverse("payments:staff-reconciliation-order", args=[obj.order_item.order_id])
        return format_html('<a href="{}">#{}</a>', url, obj.order_item.order_id)

    @admin.display(description="item", ordering="order_item__title")
    def item_title(self, obj: RefundRequest) -> str:
        return obj.order_item.title

    @admin.display(description="requested", ordering="requested_amount_cents")
    def requested(self, obj: RefundRequest) -> str:
        return format_money(obj.requested_amount_cents, obj.currency)

    @admin.display(description="approved", ordering="approved_amount_cents")
    def approved(self, obj: RefundRequest) -> str:
        if obj.approved_amount_cents is None:
            return "—"
        return format_money(obj.approved_amount_cents, obj.currency)

    @admin.action(description="Refund with a reason (approves waiting requests in full)")
    def refund_with_reason(self, request, queryset):
        """Intermediate page first; only its POST with `apply` and a reason refunds."""
        form = StaffRefundReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done, refused = 0, []
            for refund in queryset.select_related("order_item"):
                try:
                    refund_line_initiate(
                        item=refund.order_item,
                        actor=request.user,
                        amount_cents=None,
                        note=form.cleaned_data["reason"],
                    )
                except ApplicationError as exc:
                    refused.append(f"#{refund.pk}: {exc.message}")
                else:
                    done += 1
            if done:
                self.message_user(request, f"{done} refund(s) on their way.", messages.SUCCESS)
            for line in refused:
                self.message_user(request, line, messages.ERROR)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Refund with a reason",
            "opts": self.model._meta,
            "objects": queryset.select_related("order_item"),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action": "refund_with_reason",
        }
        return TemplateResponse(
            request,
            "admin/refunds/refundrequest/refund_confirmation.html",
            context,
            status=400 if form.is_bound else 200,
        )
