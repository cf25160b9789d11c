from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.decorators import method_decorator
from django.views import View

from catalog import hooks as catalog_hooks
from catalog.favorites import product_get_saveable
from catalog.models import Product
from marketplace.access import SellerRequiredMixin, VerifiedEmailRequiredMixin
from marketplace.exceptions import ApplicationError
from marketplace.http import client_ip, safe_next_url
from marketplace.ratelimits import rate_limit
from orders import services
from orders.forms import CartAddForm, CartUpdateForm, ShipForm, ShipToForm
from orders.hooks import order_line_grants_download, order_line_refund_open
from orders.models import Order, OrderItem
from orders.selectors import (
    SESSION_CART_KEY,
    SESSION_SHIP_TO_KEY,
    access_token_from,
    cart_view,
    items_by_seller,
    order_buyer_events,
    order_can_restore,
    order_get_for_viewer,
    order_item_decorate,
    order_list_for_buyer,
    sales_for_seller,
    seller_sale_get,
    session_cart,
    ship_to_for,
)
from orders.wishlist import wishlist_move_to_cart


def _cart(request: HttpRequest) -> dict:
    return session_cart(request.session)


class CartAddView(View):
    """Anyone (guests too). POST only: add a listing to the session cart."""

    @method_decorator(rate_limit(group="cart-add", rates=("CART_ADD_RATE", "CART_ADD_RATE_IP")))
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
            client_ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
        )
        messages.success(request, f"“{product.title}” is in your cart.")
        return redirect(back)


class CartDetailView(View):
    """Anyone. The cart grouped by seller, with each seller's shipping to the chosen
    country and every line that cannot be bought marked with the reason."""

    def get(self, request: HttpRequest) -> HttpResponse:
        ship_to = ship_to_for(request)
        cart = cart_view(cart=_cart(request), user=request.user, ship_to=ship_to)
        form = ShipToForm(initial={"country": ship_to} if ship_to else None)
        return render(request, "orders/cart_detail.html", {"cart": cart, "ship_to_form": form})


class CartShipToView(View):
    """Anyone. POST: choose the cart's "Ship to" country (session, and the account)."""

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ShipToForm(request.POST)
        try:
            if not form.is_valid():
                raise ApplicationError("Choose a country from the list.")
            code = services.cart_ship_to_set(
                user=request.user, country=form.cleaned_data["country"]
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("orders:cart", permanent=False)
        request.session[SESSION_SHIP_TO_KEY] = code
        return redirect("orders:cart")


class CartUpdateView(View):
    """Anyone. POST: change a line's quantity, or remove it with quantity 0."""

    def post(self, request: HttpRequest) -> HttpResponse:
        form = CartUpdateForm(request.POST)
        if form.is_valid():
            try:
                request.session[SESSION_CART_KEY] = services.cart_set_quantity(
                    cart=_cart(request), **form.cleaned_data
                )
            except ApplicationError as exc:
                messages.error(request, exc.message)
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
            order_item_decorate(item, order)
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
                "events": order_buyer_events(order),
                "can_restore": order_can_restore(order),
                "buyer_view": buyer_view,
                "refunded_cents": (refunded := sum(i.refunded_cents for i in order.items.all())),
                "paid_net_cents": order.total_cents - refunded,
                "has_files": any(i.kind == "FILE" for i in order.items.all()),
            },
        )


def _order_for_buyer(request: HttpRequest, pk: int) -> tuple[Order, str | None]:
    """The order if the requester is its buyer or holds its token (POST `t`); staff do
    not act for buyers. Else 404."""
    token = access_token_from(request.POST.get("t") or request.GET.get("t"))
    order = order_get_for_viewer(pk=pk, user=request.user, token=token)
    if order is None or (
        request.user.is_authenticated
        and request.user.is_staff
        and order.buyer_id != request.user.pk
        and not token
    ):
        raise Http404("No such order.")
    return order, token


def _back_to_order(order: Order, token: str | None) -> HttpResponse:
    url = reverse("orders:order-detail", kwargs={"pk": order.pk})
    return redirect(f"{url}?t={token}" if token else url)


class OrderItemReceivedView(View):
    """The buyer (or a guest with the token). POST: "I received it" on a shipped line."""

    def post(self, request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
        order, token = _order_for_buyer(request, pk)
        try:
            item = services.order_item_confirm_received(
                order=order, item_id=item_pk, actor=request.user
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Thanks! “{item.title}” is marked as received.")
        return _back_to_order(order, token)


class OrderRestoreCartView(View):
    """The buyer (or a guest with the token). POST: put an unpaid order's items back in
    the cart (after its checkout expired or was cancelled)."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        order, token = _order_for_buyer(request, pk)
        try:
            request.session[SESSION_CART_KEY] = services.cart_restore_from_order(
                cart=_cart(request), order=order
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return _back_to_order(order, token)
        if order.ship_to_country:
            request.session.setdefault(SESSION_SHIP_TO_KEY, order.ship_to_country)
        messages.success(request, "The items are back in your cart.")
        return redirect("orders:cart")


class OrderListView(VerifiedEmailRequiredMixin, View):
    """Verified buyers: their orders."""

    def get(self, request: HttpRequest) -> HttpResponse:
        orders = list(order_list_for_buyer(buyer=request.user))
        for order in orders:
            for item in order.items.all():
                order_item_decorate(item, order)
        return render(request, "orders/order_list.html", {"orders": orders})


class SellerSalesView(SellerRequiredMixin, View):
    """Sellers: their own lines of paid (and failed/expired) orders, never other sellers'."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(
            request,
            "orders/seller_sales.html",
            {"items": sales_for_seller(seller=request.user), "ship_form": ShipForm()},
        )


class SellerSaleDetailView(SellerRequiredMixin, View):
    """Sellers: one order as they sold it — their own lines only, and the buyer's name
    and ship-to address when they sold a printed item on it. `slip=True`: the printable
    packing slip. Another seller's order, or one they sold nothing on: 404."""

    slip: bool = False

    def get(self, request: HttpRequest, order_pk: int) -> HttpResponse:
        found = seller_sale_get(seller=request.user, order_pk=order_pk)
        if found is None:
            raise Http404("No such sale.")
        order, items = found
        shows_address = any(i.kind == "PHYSICAL" for i in items)
        if self.slip and not shows_address:
            raise Http404("Nothing of yours to ship on this order.")
        return render(
            request,
            "orders/packing_slip.html" if self.slip else "orders/seller_sale_detail.html",
            {
                "order": order,
                "items": items,
                "printed": [i for i in items if i.kind == "PHYSICAL"],
                "shows_address": shows_address,
                "ship_form": ShipForm(),
                "payable_cents": sum(i.seller_payable_cents for i in items),
            },
        )


class SellerItemFulfilView(SellerRequiredMixin, View):
    """Sellers: POST mark their own printed line shipped (carrier and tracking number,
    or "sent without tracking"). Delivery is confirmed by the buyer, or automatically."""

    def post(self, request: HttpRequest, item_pk: int) -> HttpResponse:
        item = OrderItem.objects.filter(pk=item_pk, seller=request.user).first()
        if item is None:
            raise Http404("No such sale.")
        back = safe_next_url(
            request, reverse("orders:seller-sale-detail", kwargs={"order_pk": item.order_id})
        )
        form = ShipForm(request.POST)
        try:
            if not form.is_valid():
                raise ApplicationError("Check the carrier and tracking number.")
            services.order_item_mark_shipped(
                item=item, seller=request.user, **form.service_values()
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(back)
        messages.success(request, f"“{item.title}” marked shipped; the buyer is told.")
        return redirect(back)


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
                user=request.user, product=product, cart=session_cart(request.session)
            )
        except ApplicationError as exc:
            messages.error(request, f"“{product.title}”: {exc.message}")
            return redirect(back)
        catalog_hooks.engagement_record(
            product_id=product.pk,
            kind=catalog_hooks.ADD_TO_CART,
            user=request.user,
            session_key=request.session.session_key or "",
            client_ip=client_ip(request),
        )
        messages.success(request, f"“{product.title}” moved to your cart.")
        return redirect(back)
