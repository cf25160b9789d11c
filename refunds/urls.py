from django.urls import path

import marketplace.converters  # noqa: F401  registers <id:…>
from refunds import views

app_name = "refunds"

urlpatterns = [
    # Buyer (signed in, or a guest with ?t=<order token>)
    path(
        "orders/<id:order_pk>/items/<id:item_pk>/refund/",
        views.RefundRequestCreateView.as_view(),
        name="request-create",
    ),
    path("refunds/", views.RefundListView.as_view(), name="refund-list"),
    path("refunds/<id:pk>/", views.RefundDetailView.as_view(), name="refund-detail"),
    path("refunds/<id:pk>/cancel/", views.RefundCancelView.as_view(), name="refund-cancel"),
    # Seller
    path("seller/refunds/", views.SellerRefundQueueView.as_view(), name="seller-refund-list"),
    path(
        "seller/refunds/<id:pk>/",
        views.SellerRefundDetailView.as_view(),
        name="seller-refund-detail",
    ),
    path(
        "seller/refunds/<id:pk>/approve/",
        views.SellerRefundDetailView.as_view(decision="approve"),
        name="seller-refund-approve",
    ),
    path(
        "seller/refunds/<id:pk>/decline/",
        views.SellerRefundDetailView.as_view(decision="decline"),
        name="seller-refund-decline",
    ),
    path(
        "seller/sales/<id:item_pk>/refund/",
        views.SellerLineRefundView.as_view(),
        name="seller-line-refund",
    ),
    # Staff
    path("staff/refunds/", views.StaffRefundListView.as_view(), name="staff-refund-list"),
    path(
        "staff/refunds/<id:pk>/retry/",
        views.StaffRefundRetryView.as_view(),
        name="staff-refund-retry",
    ),
    path(
        "staff/refunds/items/<id:item_pk>/refund/",
        views.StaffLineRefundView.as_view(),
        name="staff-line-refund",
    ),
]
