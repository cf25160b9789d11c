from django.urls import path

import marketplace.converters  # noqa: F401  registers <id:…>
from orders import views

app_name = "orders"

urlpatterns = [
    path("cart/", views.CartDetailView.as_view(), name="cart"),
    path("cart/add/", views.CartAddView.as_view(), name="cart-add"),
    path("cart/update/", views.CartUpdateView.as_view(), name="cart-update"),
    path("cart/ship-to/", views.CartShipToView.as_view(), name="cart-ship-to"),
    path(
        "products/<id:product_pk>/wishlist/move-to-cart/",
        views.WishlistMoveToCartView.as_view(),
        name="wishlist-move-to-cart",
    ),
    path("orders/", views.OrderListView.as_view(), name="order-list"),
    path("orders/<id:pk>/", views.OrderDetailView.as_view(), name="order-detail"),
    path(
        "orders/<id:pk>/items/<id:item_pk>/received/",
        views.OrderItemReceivedView.as_view(),
        name="order-item-received",
    ),
    path(
        "orders/<id:pk>/restore-cart/",
        views.OrderRestoreCartView.as_view(),
        name="order-restore-cart",
    ),
    path("seller/sales/", views.SellerSalesView.as_view(), name="seller-sales"),
    path(
        "seller/sales/orders/<id:order_pk>/",
        views.SellerSaleDetailView.as_view(),
        name="seller-sale-detail",
    ),
    path(
        "seller/sales/orders/<id:order_pk>/packing-slip/",
        views.SellerSaleDetailView.as_view(slip=True),
        name="seller-packing-slip",
    ),
    path(
        "seller/sales/<id:item_pk>/ship/",
        views.SellerItemFulfilView.as_view(),
        name="seller-item-ship",
    ),
]
