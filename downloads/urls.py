from django.urls import path

import marketplace.converters  # noqa: F401  registers <id:…>
from downloads import views

app_name = "downloads"

urlpatterns = [
    path("library/", views.LibraryView.as_view(), name="library"),
    path(
        "downloads/<id:product_pk>/files/<id:asset_pk>/",
        views.AssetDownloadView.as_view(),
        name="asset",
    ),
    path("downloads/<id:product_pk>/bundle/", views.BundleDownloadView.as_view(), name="bundle"),
    path("downloads/file/<str:signed>/", views.SignedFileView.as_view(), name="file"),
]
