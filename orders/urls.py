from django.urls import path

import marketplace.converters  # noqa: F401  registers <id:…>
from orders import views

app_name = "orders"

urlpatterns = [
    path("cart/", views.CartDetailView.as_view(), name="cart"),
    path("cart/add/", views.CartAddView.as_view(), name="cart-add"),
    path("cart/update/", views.CartUpdateView.as_view(), name="cart-update"),
    path(
        "products/<id:product_pk>/wishlist/move-to-cart/",
        views.WishlistMoveToCartView.as_view(),
        name="wishlist-move-to-cart",
    ),
    path("orders/", views.OrderListView.as_view(), name="order-list"),
    path("orders/<id:pk>/", views.OrderDetailView.as_view(), name="order-detail"),
    path("seller/sales/", views.SellerSalesView.as_view(), name="seller-sales"),
    path(
        "seller/sales/<id:item_pk>/ship/",
        views.SellerItemFulfilView.as_view(step="ship"),
        name="seller-item-ship",
    ),
    path(
        "seller/sales/<id:item_pk>/deliver/",
        views.SellerItemFulfilView.as_view(step="deliver"),
        name="seller-item-deliver",
    ),
]
