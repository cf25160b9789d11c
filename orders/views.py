from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from catalog.models import Product
from marketplace.exceptions import ApplicationError
from orders.forms import CartAddForm
from orders.selectors import SESSION_CART_KEY
from orders.services import cart_add


def _back(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.headers.get("Referer") or fallback
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


class CartAddView(View):
    """Anyone (guests too). POST only: add a listing to the session cart."""

    def post(self, request: HttpRequest) -> HttpResponse:
        form = CartAddForm(request.POST)
        if not form.is_valid():
            messages.error(request, "That item could not be added to your cart.")
            return redirect(_back(request, "/"))
        product = (
            Product.objects.select_related("seller")
            .filter(pk=form.cleaned_data["product_id"])
            .first()
        )
        back = _back(request, product.get_absolute_url() if product else "/")
        if product is None:
            messages.error(request, "This listing is not available.")
            return redirect(back)
        try:
            request.session[SESSION_CART_KEY] = cart_add(
                cart=request.session.get(SESSION_CART_KEY, {}),
                product=product,
                user=request.user,
                quantity=form.cleaned_data["quantity"] or 1,
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(back)
        messages.success(request, f"“{product.title}” is in your cart.")
        return redirect(back)
