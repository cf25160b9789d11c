"""Seller analytics (the seller's own listings only) and the staff pages: Admin Ops and
what buyers look for marketplace-wide."""

import csv

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from analytics.charts import daily_chart, histogram_bars
from analytics.forms import AnalyticsWindowForm, OpsWindowForm
from analytics.ops import admin_ops
from analytics.seller import (
    SEARCH_WINDOW_DAYS,
    WINDOW_DAYS,
    engagement_clicks_by_source,
    search_misses,
    search_misses_for_seller,
    searches_leading_to_listings,
    seller_analytics,
    window_for,
)
from marketplace.access import SellerRequiredMixin, StaffRequiredMixin


def _window(form: AnalyticsWindowForm, tz_name: str):
    data = form.cleaned_data if form.is_valid() else {}
    if data.get("date_from") and data.get("date_to"):
        return window_for(tz_name=tz_name, first=data["date_from"], last=data["date_to"])
    return window_for(tz_name=tz_name, days=data.get("days") or 30)


class SellerAnalyticsView(SellerRequiredMixin, View):
    """Sellers: their own listings' figures over a window in their time zone, the daily
    chart, the funnel, and what buyers searched for."""

    def get(self, request: HttpRequest) -> HttpResponse:
        form = AnalyticsWindowForm(request.GET or None)
        window = _window(form, self.seller_profile.time_zone)
        report = seller_analytics(seller=request.user, window=window)
        return render(
            request,
            "analytics/seller_analytics.html",
            {
                "form": form,
                "report": report,
                "window": window,
                "window_days": WINDOW_DAYS,
                "custom": bool(form.is_valid() and form.cleaned_data.get("date_from")),
                "chart": daily_chart(report.daily),
                "sources": engagement_clicks_by_source(seller=request.user, window=window),
                "misses": search_misses_for_seller(seller=request.user),
                "searches": searches_leading_to_listings(seller=request.user),
                "search_days": SEARCH_WINDOW_DAYS,
                "time_zone": self.seller_profile.time_zone,
                "export_query": request.GET.urlencode(),
            },
            status=200 if form.is_valid() or not request.GET else 400,
        )


CSV_HEADER = [
    "listing_id",
    "title",
    "views",
    "clicks",
    "add_to_cart",
    "favorites",
    "purchases",
    "units_sold_net",
    "downloads_unique",
    "downloads_total",
    "revenue_net_cents",
    "currency",
]


class SellerAnalyticsExportView(SellerRequiredMixin, View):
    """Sellers: the analytics table of their own listings as CSV (same window rules)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        form = AnalyticsWindowForm(request.GET or None)
        if request.GET and not form.is_valid():
            message = " ".join(str(e) for errors in form.errors.values() for e in errors)
            return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
        window = _window(form, self.seller_profile.time_zone)
        report = seller_analytics(seller=request.user, window=window)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="analytics-{window.first:%Y%m%d}-{window.last:%Y%m%d}.csv"'
        )
        response["Cache-Control"] = "private, no-store"
        writer = csv.writer(response)
        writer.writerow(CSV_HEADER)
        for row in report.listings:
            p = row.product
            writer.writerow(
                [
                    p.pk,
                    _csv_safe(p.title),
                    row.views,
                    row.clicks,
                    row.add_to_cart,
                    row.favorites,
                    row.purchases,
                    row.units_net,
                    row.downloads_unique,
                    row.downloads_total,
                    row.revenue_cents,
                    p.currency,
                ]
            )
        return response


def _csv_safe(text: str) -> str:
    """A title a spreadsheet would run as a formula is quoted with a leading apostrophe."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


class StaffOpsView(StaffRequiredMixin, View):
    """Staff: the Admin Ops console (failed emails, payouts, webhooks, disputes, refunds,
    trust and safety, marketplace totals) over `?days=` for the time-bound blocks."""

    def get(self, request: HttpRequest) -> HttpResponse:
        form = OpsWindowForm(request.GET or None)
        days = (form.cleaned_data.get("days") if form.is_valid() else None) or 7
        ops = admin_ops(days=days)
        for histogram in ops["webhooks"]["histograms"]:
            histogram["svg"] = histogram_bars(histogram["buckets"])
        return render(
            request,
            "analytics/staff_ops.html",
            {"ops": ops, "form": form},
            status=200 if form.is_valid() or not request.GET else 400,
        )


class StaffSearchesView(StaffRequiredMixin, View):
    """Staff: what buyers look for, marketplace-wide (last 30 days)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(
            request,
            "analytics/staff_searches.html",
            {
                "misses": search_misses(limit=50),
                "searches": searches_leading_to_listings(limit=50),
                "search_days": SEARCH_WINDOW_DAYS,
            },
        )
