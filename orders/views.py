from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.views import View

from catalog import hooks as catalog_hooks
from catalog.favorites import product_get_saveable
from catalog.models import Product
from marketplace.access import SellerRequiredMixin, VerifiedEmailRequiredMixin
from marketplace.exceptions import ApplicationError
from marketplace.http import safe_next_url
from orders import services
from orders.forms import CartAddForm, CartUpdateForm, ShipForm
from orders.hooks import order_line_grants_download, order_line_refund_open
from orders.models import OrderItem
from orders.selectors import (
    SESSION_CART_KEY,
    access_token_from,
    cart_view,
    items_by_seller,
    order_get_for_viewer,
    order_list_for_buyer,
    sales_for_seller,
)
from orders.wishlist import wishlist_move_to_cart


def _cart(request: HttpRequest) -> dict:
    return request.session.get(SESSION_CART_KEY, {})


class CartAddView(View):
    """Anyone (guests too). POST only: add a listing to the session cart."""

    def post(self, request: HttpRequest) -> HttpResponse:
        form = CartAddForm(request.POST)
        if not form.is_valid():
            messages.error(request, "That item could not be added to your cart.")
            return redirect(safe_next_url(request, "/"))
        product = (
            Product.objects.select_related("seller")
            .filter(pk=form.cleaned_data["product_id"])
            .first()
        )
        back = safe_next_url(request, product.get_absolute_url() if product else "/")
        if product is None:
            messages.error(request, "This listing is not available.")
            return redirect(back)
        try:
            request.session[SESSION_CART_KEY] = services.cart_add(
                cart=_cart(request),
                product=product,
                user=request.user,
                quantity=form.cleaned_data["quantity"] or 1,
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(back)
        if not request.session.session_key:
            request.session.save()  # a guest's events need a stable session key
        catalog_hooks.engagement_record(
            product_id=product.pk,
            kind=catalog_hooks.ADD_TO_CART,
            user=request.user,
            session_key=request.session.session_key or "",
        )
        messages.success(request, f"“{product.title}” is in your cart.")
        return redirect(back)


class CartDetailView(View):
    """Anyone. The cart grouped by seller, with each seller's shipping."""

    def get(self, request: HttpRequest) -> HttpResponse:
        cart = cart_view(cart=_cart(request), user=request.user)
        return render(request, "orders/cart_detail.html", {"cart": cart})


class CartUpdateView(View):
    """Anyone. POST: change a line's quantity, or remove it with quantity 0."""

    def post(self, request: HttpRequest) -> HttpResponse:
        form = CartUpdateForm(request.POST)
        if form.is_valid():
            request.session[SESSION_CART_KEY] = services.cart_set_quantity(
                cart=_cart(request), **form.cleaned_data
            )
        else:
            messages.error(request, "Enter a quantity of 0 or more.")
        return redirect("orders:cart")


class OrderDetailView(View):
    """The buyer, staff, or a guest holding the order's token (`?t=`). Else 404."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        token = access_token_from(request.GET.get("t"))
        order = order_get_for_viewer(pk=pk, user=request.user, token=token)
        if order is None:
            raise Http404("No such order.")
        for item in order.items.all():
            item.can_download = order_line_grants_download(item)  # downloads' rule
            item.can_request_refund = order_line_refund_open(item)  # refunds' rule
        # The buyer's own actions (refund requests) show to the buyer, not to staff.
        buyer_view = (request.user.is_authenticated and order.buyer_id == request.user.pk) or bool(
            token and constant_time_compare(token, order.access_token)
        )
        return render(
            request,
            "orders/order_detail.html",
            {
                "order": order,
                "groups": items_by_seller(order.items.all()),
                "token": token,
                "buyer_view": buyer_view,
            },
        )


class OrderListView(VerifiedEmailRequiredMixin, View):
    """Verified buyers: their orders."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(
            request, "orders/order_list.html", {"orders": order_list_for_buyer(buyer=request.user)}
        )


class SellerSalesView(SellerRequiredMixin, View):
    """Sellers: their own lines of paid (and failed/expired) orders, never other sellers'."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(
            request,
            "orders/seller_sales.html",
            {"items": sales_for_seller(seller=request.user), "ship_form": ShipForm()},
        )


class SellerItemFulfilView(SellerRequiredMixin, View):
    """Sellers: POST mark shipped (carrier, tracking) or delivered, for their own line."""

    step: str = "ship"

    def post(self, request: HttpRequest, item_pk: int) -> HttpResponse:
        item = OrderItem.objects.filter(pk=item_pk, seller=request.user).first()
        if item is None:
            raise Http404("No such sale.")
        try:
            if self.step == "ship":
                form = ShipForm(request.POST)
                if not form.is_valid():
                    raise ApplicationError("Check the carrier and tracking number.")
                services.order_item_mark_shipped(
                    item=item, seller=request.user, **form.cleaned_data
                )
                messages.success(request, f"“{item.title}” marked shipped; the buyer is told.")
            else:
                services.order_item_mark_delivered(item=item, seller=request.user)
                messages.success(request, f"“{item.title}” marked delivered.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("orders:seller-sales")


class WishlistMoveToCartView(VerifiedEmailRequiredMixin, View):
    """Verified users. POST: move a wishlist item into the session cart; what the cart
    refuses (can_buy, stock) stays on the wishlist with the reason as a message."""

    def post(self, request: HttpRequest, product_pk: int) -> HttpResponse:
        product = product_get_saveable(user=request.user, pk=product_pk)
        if product is None:
            raise Http404("No such listing.")
        back = safe_next_url(request, reverse("social:saved"))
        try:
            request.session[SESSION_CART_KEY] = wishlist_move_to_cart(
                user=request.user, product=product, cart=request.session.get(SESSION_CART_KEY, {})
            )
        except ApplicationError as exc:
            messages.error(request, f"“{product.title}”: {exc.message}")
            return redirect(back)
        catalog_hooks.engagement_record(
            product_id=product.pk,
            kind=catalog_hooks.ADD_TO_CART,
            user=request.user,
            session_key=request.session.session_key or "",
        )
        messages.success(request, f"“{product.title}” moved to your cart.")
        return redirect(back)
