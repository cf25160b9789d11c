from django.urls import path

from downloads import views

app_name = "downloads"

urlpatterns = [
    path("library/", views.LibraryView.as_view(), name="library"),
    path(
        "downloads/<int:product_pk>/files/<int:asset_pk>/",
        views.AssetDownloadView.as_view(),
        name="asset",
    ),
    path("downloads/<int:product_pk>/bundle/", views.BundleDownloadView.as_view(), name="bundle"),
    path("downloads/file/<str:signed>/", views.SignedFileView.as_view(), name="file"),
]
