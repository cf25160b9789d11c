from django.urls import path

import marketplace.converters  # noqa: F401  registers <id:…>
from moderation import views, views_ip

app_name = "moderation"

urlpatterns = [
    path("decisions/<id:pk>/", views.StatementView.as_view(), name="statement"),
    path("reviews/<id:review_pk>/report/", views.ReviewReportView.as_view(), name="review-report"),
    # Notice and takedown for intellectual property (moderation/views_ip.py).
    path("ip/report/", views_ip.IPNoticeView.as_view(), name="ip-notice"),
    path(
        "decisions/<id:pk>/counter-notice/",
        views_ip.CounterNoticeView.as_view(),
        name="ip-counter-notice",
    ),
]
