from django.urls import path

import marketplace.converters  # noqa: F401  registers <id:…>
from moderation import staff, views, views_ip

app_name = "moderation"

urlpatterns = [
    path("decisions/<id:pk>/", views.StatementView.as_view(), name="statement"),
    path("reviews/<id:review_pk>/report/", views.ReviewReportView.as_view(), name="review-report"),
    path(
        "moderation/report/<slug:kind>/<id:pk>/",
        views.ReportCreateView.as_view(),
        name="report",
    ),
    # Staff (404 to everyone else).
    path("staff/moderation/", staff.ModerationQueueView.as_view(), name="staff-queue"),
    path(
        "staff/moderation/reports/<id:pk>/decide/",
        staff.ReportDecideView.as_view(),
        name="staff-report-decide",
    ),
    path("staff/audit-log/", staff.StaffActionLogListView.as_view(), name="staff-audit-log"),
    path("staff/suspensions/", staff.SuspensionListView.as_view(), name="staff-suspensions"),
    path(
        "staff/suspensions/<id:pk>/lift/",
        staff.SuspensionLiftView.as_view(),
        name="staff-suspension-lift",
    ),
    # Notice and takedown for intellectual property (moderation/views_ip.py).
    path("ip/report/", views_ip.IPNoticeView.as_view(), name="ip-notice"),
    path(
        "decisions/<id:pk>/counter-notice/",
        views_ip.CounterNoticeView.as_view(),
        name="ip-counter-notice",
    ),
]
