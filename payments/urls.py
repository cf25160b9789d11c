from django.urls import path

import marketplace.converters  # noqa: F401  registers <id:…>
from payments import dashboard, staff, views, webhooks

app_name = "payments"

urlpatterns = [
    # Buyer: the order is created and sent to payment (orders + payments)
    path("checkout/", views.CheckoutView.as_view(), name="checkout"),
    path(
        "checkout/cancel/<id:order_pk>/",
        views.CheckoutCancelView.as_view(),
        name="checkout-cancel",
    ),
    # Stripe → us
    path("stripe/webhook/", webhooks.stripe_webhook_platform, name="webhook-platform"),
    path("stripe/webhook/connect/", webhooks.stripe_webhook_connect, name="webhook-connect"),
    # Seller: Connect Express onboarding ("payouts")
    path("seller/payouts/", views.ConnectStatusView.as_view(), name="connect"),
    path("seller/payouts/start/", views.ConnectStartView.as_view(), name="connect-start"),
    path("seller/payouts/return/", views.ConnectReturnView.as_view(), name="connect-return"),
    path("seller/payouts/refresh/", views.ConnectRefreshView.as_view(), name="connect-refresh"),
    path("seller/payouts/sync/", views.ConnectSyncView.as_view(), name="connect-sync"),
    path(
        "seller/payouts/dashboard/", views.ConnectDashboardView.as_view(), name="connect-dashboard"
    ),
    path(
        "seller/payouts/ledger/",
        dashboard.PayoutsDashboardView.as_view(),
        name="payouts-dashboard",
    ),
    # Local payment simulator (404 whenever STRIPE_SECRET_KEY is set)
    path(
        "payments/simulator/checkout/<stripe_id:session_id>/",
        views.SimulatorCheckoutView.as_view(),
        name="simulator-checkout",
    ),
    path(
        "payments/simulator/onboarding/<stripe_id:account_id>/",
        views.SimulatorOnboardingView.as_view(),
        name="simulator-onboarding",
    ),
    path(
        "payments/simulator/dashboard/<stripe_id:account_id>/",
        views.SimulatorDashboardView.as_view(),
        name="simulator-dashboard",
    ),
    path(
        "payments/simulator/orders/<id:pk>/money/",
        views.SimulatorOrderMoneyView.as_view(),
        name="simulator-order-money",
    ),
    # Staff: disputes and reconciliation (read only)
    path("staff/disputes/", staff.StaffDisputeListView.as_view(), name="staff-dispute-list"),
    path(
        "staff/reconciliation/",
        staff.StaffReconciliationListView.as_view(),
        name="staff-reconciliation-list",
    ),
    path(
        "staff/reconciliation/export.csv",
        staff.StaffReconciliationExportView.as_view(),
        name="staff-reconciliation-export",
    ),
    path(
        "staff/reconciliation/orders/<id:pk>/",
        staff.StaffReconciliationOrderView.as_view(),
        name="staff-reconciliation-order",
    ),
    path(
        "staff/reconciliation/refunds/<id:pk>/allocate/",
        staff.StaffRefundAllocateView.as_view(),
        name="staff-refund-allocate",
    ),
    # Staff: process one stored Stripe event again, with a reason (audited)
    path(
        "staff/stripe-events/<id:pk>/reprocess/",
        staff.StaffStripeEventReprocessView.as_view(),
        name="staff-stripe-event-reprocess",
    ),
]
