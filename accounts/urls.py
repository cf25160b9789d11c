from django.urls import path

import marketplace.converters  # noqa: F401  registers <id:…>
from accounts import views

app_name = "accounts"

urlpatterns = [
    path("accounts/data-export/", views.DataExportView.as_view(), name="data-export"),
    path(
        "accounts/data-export/<id:pk>/download/",
        views.DataExportDownloadView.as_view(),
        name="data-export-download",
    ),
    path("accounts/delete/", views.AccountDeleteView.as_view(), name="delete"),
]
