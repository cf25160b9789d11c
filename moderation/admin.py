from django.contrib import admin, messages
from django.utils.text import Truncator

from catalog.models import Review
from catalog.reviews import review_set_hidden
from marketplace.exceptions import ApplicationError
from moderation.models import Report
from moderation.services import report_resolve


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """The staff queue of reported reviews. Resolve with the actions, which call
    moderation.services (so the product's rating stays exact)."""

    list_display = (
        "id",
        "status",
        "reason",
        "product",
        "review_summary",
        "reporter",
        "created_at",
        "resolved_by",
    )
    list_filter = ("status", "reason")
    search_fields = (
        "review__body",
        "review__product__title",
        "reporter__email",
        "review__author__email",
    )
    list_select_related = ("review__product", "review__author", "reporter", "resolved_by")
    raw_id_fields = ("review", "reporter", "resolved_by")
    readonly_fields = (
        "review",
        "reporter",
        "reason",
        "details",
        "status",
        "created_at",
        "resolved_at",
        "resolved_by",
    )
    actions = ("hide_reviews", "dismiss_reports")

    @admin.display(description="product", ordering="review__product__title")
    def product(self, obj: Report) -> str:
        return obj.review.product.title if obj.review else "—"

    @admin.display(description="reported review")
    def review_summary(self, obj: Report) -> str:
        review = obj.review
        if review is None:
            return f"{obj.get_kind_display()} #{obj.target_id}"
        return f"{review.rating}★ by {review.author}: “{Truncator(review.body).chars(60)}”"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("review__product", "review__author", "reporter", "resolved_by")
        )

    # Read-only rows: a report changes only through the actions (the service).
    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def _resolve(self, request, queryset, *, hide_review: bool) -> None:
        done = 0
        for report in queryset:
            try:
                report_resolve(report=report, staff=request.user, hide_review=hide_review)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"Report {report.pk}: {exc.message}", messages.WARNING)
        self.message_user(request, f"{done} report(s) resolved.", messages.SUCCESS)

    @admin.action(description="Hide the reported review(s)", permissions=["change"])
    def hide_reviews(self, request, queryset) -> None:
        self._resolve(request, queryset, hide_review=True)

    @admin.action(description="Dismiss the report(s)", permissions=["change"])
    def dismiss_reports(self, request, queryset) -> None:
        self._resolve(request, queryset, hide_review=False)


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    """Reviews are the buyers' words: staff only hide or restore them (via the service)."""

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
    def hide(self, request, queryset) -> None:
        for review in queryset:
            review_set_hidden(review=review, hidden=True)
        self.message_user(request, "Hidden.", messages.SUCCESS)

    @admin.action(description="Restore selected reviews", permissions=["change"])
    def unhide(self, request, queryset) -> None:
        for review in queryset:
            review_set_hidden(review=review, hidden=False)
        self.message_user(request, "Restored.", messages.SUCCESS)


from moderation import admin_ip  # noqa: E402, F401  IP notices (moderation/admin_ip.py)
