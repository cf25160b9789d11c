from django.urls import path

import marketplace.converters  # noqa: F401  registers <id:…>
from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("shops/<slug:slug>/", views.ShopDetailView.as_view(), name="shop-detail"),
    path("p/<slug:slug>/", views.ProductDetailView.as_view(), name="product-detail"),
    path("c/<slug:slug>/", views.BrowseView.as_view(), name="category-detail"),
    path("browse/", views.BrowseView.as_view(), name="browse"),
    path("search/", views.BrowseView.as_view(), name="search"),
    path("search/suggest/", views.search_suggest, name="search-suggest"),
    path("seller/listings/", views.SellerListingListView.as_view(), name="seller-listing-list"),
    path("seller/shipping/", views.SellerShippingListView.as_view(), name="seller-shipping-list"),
    path(
        "seller/shipping/new/",
        views.SellerShippingEditView.as_view(),
        name="seller-shipping-create",
    ),
    path(
        "seller/shipping/<id:pk>/edit/",
        views.SellerShippingEditView.as_view(),
        name="seller-shipping-update",
    ),
    path(
        "seller/shipping/<id:pk>/delete/",
        views.SellerShippingDeleteView.as_view(),
        name="seller-shipping-delete",
    ),
    path(
        "seller/listings/new/",
        views.SellerListingCreateView.as_view(),
        name="seller-listing-create",
    ),
    path(
        "seller/listings/<id:pk>/edit/",
        views.SellerListingUpdateView.as_view(),
        name="seller-listing-update",
    ),
    *[
        path(
            f"seller/listings/<id:pk>/{action}/",
            views.SellerListingActionView.as_view(action=action),
            name=f"seller-listing-{action}",
        )
        for action in ("publish", "unpublish", "archive", "duplicate")
    ],
    path(
        "seller/listings/<id:pk>/images/",
        views.SellerImageUploadView.as_view(),
        name="seller-image-upload",
    ),
    path(
        "seller/listings/<id:pk>/images/<id:image_pk>/delete/",
        views.SellerImageActionView.as_view(action="delete"),
        name="seller-image-delete",
    ),
    path(
        "seller/listings/<id:pk>/images/<id:image_pk>/cover/",
        views.SellerImageActionView.as_view(action="cover"),
        name="seller-image-cover",
    ),
    path(
        "seller/listings/<id:pk>/files/",
        views.SellerAssetUploadView.as_view(),
        name="seller-asset-upload",
    ),
    path(
        "seller/listings/<id:pk>/files/<id:asset_pk>/delete/",
        views.SellerAssetDeleteView.as_view(),
        name="seller-asset-delete",
    ),
]
