from django.urls import path

import marketplace.converters  # noqa: F401  registers <id:…>
from catalog import views_social as views

app_name = "social"

urlpatterns = [
    path("products/<id:product_pk>/review/", views.ReviewEditView.as_view(), name="review-edit"),
    path("reviews/<id:review_pk>/reply/", views.ReviewReplyView.as_view(), name="review-reply"),
    path("reviews/<id:review_pk>/delete/", views.ReviewDeleteView.as_view(), name="review-delete"),
    path(
        "products/<id:product_pk>/favorite/",
        views.FavoriteToggleView.as_view(),
        name="favorite-toggle",
    ),
    path(
        "products/<id:product_pk>/wishlist/",
        views.WishlistToggleView.as_view(),
        name="wishlist-toggle",
    ),
    path("saved/", views.SavedListView.as_view(), name="saved"),
]
