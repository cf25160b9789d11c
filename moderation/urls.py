from django.urls import path

import marketplace.converters  # noqa: F401  registers <id:…>
from moderation import views

app_name = "moderation"

urlpatterns = [
    path("decisions/<id:pk>/", views.StatementView.as_view(), name="statement"),
    path("reviews/<id:review_pk>/report/", views.ReviewReportView.as_view(), name="review-report"),
]
