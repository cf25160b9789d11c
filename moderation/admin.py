"""Moderation in the admin. The staff pages (/staff/moderation/, /staff/suspensions/,
/staff/audit-log/) are the main tools; these admin actions call the same services, each
behind a confirmation page asking for the reason (templates/admin/action_with_reason.html).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.template.response import TemplateResponse
from django.utils.text import Truncator

from catalog.models import Review
from marketplace.admin import UserAdmin
from marketplace.admin_display import ReadOnlyAdmin
from marketplace.exceptions import ApplicationError
from moderation.kinds import KINDS
from moderation.models import Report, StaffActionLog, Suspension
from moderation.services import report_resolve
from moderation.suspensions import user_suspend, user_unsuspend


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Required. Recorded in the audit log; the people affected read it.",
    )


def _with_reason(modeladmin, request, queryset, *, action: str, title: str, apply):
    """The confirmation page, then `apply(obj, reason)` per object (ApplicationError →
    a warning for that object)."""
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        done = 0
        for obj in queryset:
            try:
                apply(obj, form.cleaned_data["reason"])
                done += 1
            except ApplicationError as exc:
                modeladmin.message_user(request, f"{obj}: {exc.message}", messages.WARNING)
        modeladmin.message_user(request, f"{title}: {done} done.", messages.SUCCESS)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "opts": modeladmin.model._meta,
        "objects": queryset,
        "form": form,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "action": action,
    }
    return TemplateResponse(
        request, "admin/action_with_reason.html", context, status=400 if form.is_bound else 200
    )


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """Every report (the staff queue at /staff/moderation/ is the main tool). Rows are
    read-only; the actions call moderation.services."""

    list_display = (
        "id",
        "kind",
        "status",
        "reason",
        "product",
        "target_summary",
        "subject_user",
        "reporter",
        "created_at",
        "resolved_by",
    )
    list_filter = ("status", "kind", "reason")
    search_fields = ("details", "reporter__email", "reporter_email", "subject_user__email")
    list_select_related = (
        "reporter",
        "subject_user",
        "resolved_by",
        "review__product",
        "review__author",
    )
    raw_id_fields = ("review", "reporter", "resolved_by", "subject_user")
    readonly_fields = [f.name for f in Report._meta.fields]
    actions = ("hide_reviews", "dismiss_reports")

    @admin.display(description="product", ordering="review__product__title")
    def product(self, obj: Report) -> str:
        return obj.review.product.title if obj.review else "—"

    @admin.display(description="reported")
    def target_summary(self, obj: Report) -> str:
        review = obj.review
        if review is None:
            return f"{obj.get_kind_display()} #{obj.target_id}"
        return f"{review.rating}★ by {review.author}: “{Truncator(review.body).chars(60)}”"

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Remove the reported review(s)", permissions=["change"])
    def hide_reviews(self, request, queryset):
        return _with_reason(
            self,
            request,
            queryset.filter(kind=Report.Kind.REVIEW),
            action="hide_reviews",
            title="Remove the reported reviews",
            apply=lambda r, reason: report_resolve(
                report=r, staff=request.user, hide_review=True, reason=reason
            ),
        )

    @admin.action(description="Dismiss the report(s)", permissions=["change"])
    def dismiss_reports(self, request, queryset):
        return _with_reason(
            self,
            request,
            queryset,
            action="dismiss_reports",
            title="Dismiss the reports",
            apply=lambda r, reason: report_resolve(
                report=r, staff=request.user, hide_review=False, reason=reason
            ),
        )


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    """Reviews are the buyers' words: staff only hide or restore them (via the service,
    audited, the author told)."""

    list_display = ("id", "product", "author", "stars", "is_verified_purchase", "is_hidden")
    list_filter = ("is_hidden", "rating", "is_verified_purchase")
    search_fields = ("body", "product__title", "author__email")
    list_select_related = ("product", "author")
    raw_id_fields = ("product", "author", "order_item")
    readonly_fields = (
        "product",
        "author",
        "rating",
        "body",
        "is_verified_purchase",
        "order_item",
        "is_hidden",
        "created_at",
        "updated_at",
    )
    actions = ("hide", "unhide")

    @admin.display(description="rating", ordering="rating")
    def stars(self, obj: Review) -> str:
        return f"{obj.rating}★"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product", "author")

    # Deleting or editing here would skip the service and break the product's rating.
    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Hide selected reviews", permissions=["change"])
    def hide(self, request, queryset):
        spec = KINDS[Report.Kind.REVIEW]
        return _with_reason(
            self,
            request,
            queryset.filter(is_hidden=False),
            action="hide",
            title="Hide reviews",
            apply=lambda r, reason: spec.remove(r, staff=request.user, reason=reason),
        )

    @admin.action(description="Restore selected reviews", permissions=["change"])
    def unhide(self, request, queryset):
        spec = KINDS[Report.Kind.REVIEW]
        return _with_reason(
            self,
            request,
            queryset.filter(is_hidden=True),
            action="unhide",
            title="Restore reviews",
            apply=lambda r, reason: spec.restore(r, staff=request.user, reason=reason),
        )


@admin.register(StaffActionLog)
class StaffActionLogAdmin(ReadOnlyAdmin):
    """The audit trail, read-only (rows are append-only)."""

    list_display = ("created_at", "actor", "action", "target_type", "target_id", "subject_user")
    list_filter = ("action", "target_type")
    search_fields = ("reason", "target_repr", "actor__email", "subject_user__email")
    list_select_related = ("actor", "subject_user")
    readonly_fields = [f.name for f in StaffActionLog._meta.fields]


@admin.register(Suspension)
class SuspensionAdmin(ReadOnlyAdmin):
    """Read-only: suspend and lift through the user list's actions or /staff/suspensions/."""

    list_display = ("user", "starts_at", "ends_at", "lifted_at", "created_by", "lifted_by")
    list_filter = ("lifted_at",)
    search_fields = ("user__email", "reason")
    list_select_related = ("user", "created_by", "lifted_by")
    readonly_fields = [f.name for f in Suspension._meta.fields]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class ModeratedUserAdmin(UserAdmin):
    """marketplace's user admin with moderation's actions: suspend (with a reason; lifted
    by staff or at an end date set on /staff/moderation/) and unsuspend. `is_active`
    stays for closing an account."""

    actions = ("suspend", "unsuspend")

    @admin.action(description="Suspend selected users (until lifted)", permissions=["change"])
    def suspend(self, request, queryset):
        return _with_reason(
            self,
            request,
            queryset.filter(is_suspended=False),
            action="suspend",
            title="Suspend users",
            apply=lambda u, reason: user_suspend(user=u, staff=request.user, reason=reason),
        )

    @admin.action(description="Unsuspend selected users", permissions=["change"])
    def unsuspend(self, request, queryset):
        return _with_reason(
            self,
            request,
            queryset.filter(is_suspended=True),
            action="unsuspend",
            title="Unsuspend users",
            apply=lambda u, reason: user_unsuspend(user=u, staff=request.user, reason=reason),
        )


from moderation import admin_ip  # noqa: E402, F401  IP notices (moderation/admin_ip.py)
