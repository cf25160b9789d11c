"""Admin for IP notices: the notice, the seller's strike count (repeat infringers are
flagged) and the take-down action, which goes through `moderation.ip.ip_takedown` (audit
row and statement of reasons to the seller)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.template.response import TemplateResponse

from marketplace.exceptions import ApplicationError
from moderation.ip import ip_takedown, is_repeat_infringer
from moderation.models import CounterNotice, IPNotice, Report


class IPTakedownForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=400,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The seller reads this in their statement of reasons.",
    )


@admin.register(IPNotice)
class IPNoticeAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "report_status",
        "claimant_name",
        "listing_url",
        "seller",
        "seller_strikes",
        "created_at",
    )
    list_filter = ("report__status",)
    search_fields = ("claimant_name", "claimant_email", "listing_url", "work_description")
    list_select_related = ("report__subject_user",)
    readonly_fields = [f.name for f in IPNotice._meta.fields]
    actions = ("take_down_listing",)

    def get_queryset(self, request):
        # The seller's upheld IP notices, counted in the list's one query.
        upheld = (
            Report.objects.filter(
                kind=Report.Kind.IP,
                status=Report.Status.ACTIONED,
                subject_user_id=OuterRef("report__subject_user_id"),
            )
            .order_by()
            .values("subject_user_id")
            .annotate(n=Count("id"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .select_related("report__subject_user")
            .annotate(strikes=Coalesce(Subquery(upheld), 0))
        )

    @admin.display(description="status")
    def report_status(self, obj: IPNotice) -> str:
        return obj.report.get_status_display()

    @admin.display(description="seller")
    def seller(self, obj: IPNotice) -> str:
        return str(obj.report.subject_user or "—")

    @admin.display(description="upheld IP notices")
    def seller_strikes(self, obj: IPNotice) -> str:
        n = obj.strikes
        return f"{n} — REPEAT INFRINGER" if is_repeat_infringer(n) else str(n)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Take down the reported listing(s) (with a reason)")
    def take_down_listing(self, request, queryset):
        form = IPTakedownForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = 0
            for notice in queryset.select_related("report"):
                try:
                    ip_takedown(
                        report=notice.report, actor=request.user, reason=form.cleaned_data["reason"]
                    )
                except ApplicationError as exc:
                    self.message_user(request, f"Notice {notice.pk}: {exc.message}", messages.ERROR)
                else:
                    done += 1
            if done:
                self.message_user(request, f"{done} listing(s) taken down.", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Take down listings after IP notices",
            "opts": self.model._meta,
            "objects": queryset,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action": "take_down_listing",
        }
        return TemplateResponse(
            request,
            "admin/moderation/ipnotice/take_down_confirmation.html",
            context,
            status=400 if form.is_bound else 200,
        )


@admin.register(CounterNotice)
class CounterNoticeAdmin(admin.ModelAdmin):
    list_display = ("id", "notice", "seller", "full_name", "created_at")
    readonly_fields = [f.name for f in CounterNotice._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
