from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("cart/add/", views.CartAddView.as_view(), name="cart-add"),
]
