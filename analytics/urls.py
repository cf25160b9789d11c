from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    # Seller: their own listings' figures (SellerRequiredMixin)
    path("seller/analytics/", views.SellerAnalyticsView.as_view(), name="seller-analytics"),
    path(
        "seller/analytics/export.csv",
        views.SellerAnalyticsExportView.as_view(),
        name="seller-analytics-export",
    ),
    # Staff (StaffRequiredMixin: others get a 404)
    path("staff/ops/", views.StaffOpsView.as_view(), name="staff-ops"),
    path("staff/searches/", views.StaffSearchesView.as_view(), name="staff-searches"),
]
