from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("p/<slug:slug>/", views.ProductDetailView.as_view(), name="product-detail"),
    path("c/<slug:slug>/", views.CategoryDetailView.as_view(), name="category-detail"),
    path("seller/listings/", views.SellerListingListView.as_view(), name="seller-listing-list"),
    path(
        "seller/listings/new/",
        views.SellerListingCreateView.as_view(),
        name="seller-listing-create",
    ),
    path(
        "seller/listings/<int:pk>/edit/",
        views.SellerListingUpdateView.as_view(),
        name="seller-listing-update",
    ),
    *[
        path(
            f"seller/listings/<int:pk>/{action}/",
            views.SellerListingActionView.as_view(action=action),
            name=f"seller-listing-{action}",
        )
        for action in ("publish", "unpublish", "archive", "duplicate")
    ],
    path(
        "seller/listings/<int:pk>/images/",
        views.SellerImageUploadView.as_view(),
        name="seller-image-upload",
    ),
    path(
        "seller/listings/<int:pk>/images/<int:image_pk>/delete/",
        views.SellerImageActionView.as_view(action="delete"),
        name="seller-image-delete",
    ),
    path(
        "seller/listings/<int:pk>/images/<int:image_pk>/cover/",
        views.SellerImageActionView.as_view(action="cover"),
        name="seller-image-cover",
    ),
    path(
        "seller/listings/<int:pk>/files/",
        views.SellerAssetUploadView.as_view(),
        name="seller-asset-upload",
    ),
    path(
        "seller/listings/<int:pk>/files/<int:asset_pk>/delete/",
        views.SellerAssetDeleteView.as_view(),
        name="seller-asset-delete",
    ),
]
