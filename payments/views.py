"""Seller payouts (Connect Express onboarding) and the local payment simulator's pages.

Webhook endpoints are in `payments.webhooks`.
"""

import logging

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.generic import TemplateView

from marketplace.access import SellerRequiredMixin, StaffRequiredMixin
from marketplace.exceptions import ApplicationError
from marketplace.http import client_ip
from marketplace.ratelimits import rate_limit
from orders.emails import order_buyer_url
from orders.forms import CheckoutForm
from orders.models import Order
from orders.selectors import (
    SESSION_CART_KEY,
    SESSION_CHECKOUTS_KEY,
    SESSION_SHIP_TO_KEY,
    access_token_from,
    cart_view,
    session_cart,
    ship_to_for,
)
from orders.services import cart_restore_from_order, order_create_from_cart
from payments.checkout import CancelOutcome, checkout_cancel, checkout_start
from payments.forms import SimulatorCheckoutForm, SimulatorMoneyForm
from payments.gateway import GatewayError
from payments.models import Dispute, SellerStripeAccount
from payments.services import (
    seller_stripe_account_dashboard_link,
    seller_stripe_account_start,
    seller_stripe_account_sync,
)
from payments.simulator import (
    DECLINE_MESSAGE,
    LINK_MAX_AGE_SECONDS,
    LINK_SALT,
    SimulatedAccount,
    SimulatedCheckoutSession,
    SimulatedDispute,
    SimulatedRefund,
    SimulatorDeliveryError,
    redirect_target,
    shipping_details_build,
    simulator_account_complete_onboarding,
    simulator_dispute_close,
    simulator_dispute_open,
    simulator_enabled,
    simulator_refund_outside,
    simulator_seller_balance_set_short,
    simulator_session_decline,
    simulator_session_expire,
    simulator_session_pay,
)

logger = logging.getLogger(__name__)

CONNECT = "payments:connect"


# ------------------------------------------------------------------------------
# Seller: payouts with Stripe Connect Express
# ------------------------------------------------------------------------------
def _account_for(request: HttpRequest) -> SellerStripeAccount | None:
    return SellerStripeAccount.objects.filter(seller=request.user).first()


def _onboarding_link(request: HttpRequest) -> str:
    return seller_stripe_account_start(
        seller=request.user,
        refresh_url=request.build_absolute_uri(reverse("payments:connect-refresh")),
        return_url=request.build_absolute_uri(reverse("payments:connect-return")),
    )


def _sync_message(request: HttpRequest, account: SellerStripeAccount) -> None:
    if account.is_ready:
        messages.success(request, "Payouts are set up. Buyers can now pay for your listings.")
    elif account.details_submitted:
        messages.info(request, "Stripe is reviewing your details. We will update this page.")
    else:
        messages.warning(request, "Stripe still needs a few details before you can be paid.")


class ConnectStatusView(SellerRequiredMixin, TemplateView):
    """Sellers. Where payouts stand and the button to set them up or continue."""

    template_name = "payments/connect.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        account = _account_for(self.request)
        context["account"] = account
        context["requirements"] = [
            r.replace("_", " ").replace(".", " › ")
            for r in (account.requirements_currently_due if account else [])
        ]
        return context


class ConnectStartView(SellerRequiredMixin, View):
    """Sellers. POST: create the Express account once and go to Stripe's onboarding."""

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            return redirect(_onboarding_link(request))
        except (GatewayError, ApplicationError) as exc:
            messages.error(request, exc.message)
            return redirect(CONNECT)


class ConnectRefreshView(SellerRequiredMixin, View):
    """Sellers. GET: Stripe sends the seller here when a link expired; make a new one."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if _account_for(request) is None:
            return redirect(CONNECT)
        try:
            return redirect(_onboarding_link(request))
        except (GatewayError, ApplicationError) as exc:
            messages.error(request, exc.message)
            return redirect(CONNECT)


def _sync_and_return(request: HttpRequest) -> HttpResponse:
    """Fetch the seller's account state from Stripe, say where it stands, go back."""
    account = _account_for(request)
    if account is None:
        return redirect(CONNECT)
    try:
        account = seller_stripe_account_sync(account_id=account.stripe_account_id)
    except GatewayError as exc:
        messages.error(request, exc.message)
        return redirect(CONNECT)
    _sync_message(request, account)
    return redirect(CONNECT)


class ConnectReturnView(SellerRequiredMixin, View):
    """Sellers. GET: back from Stripe's onboarding; sync the account and say where it stands.

    Returning does not mean onboarding finished, so the state is fetched, not assumed.
    """

    def get(self, request: HttpRequest) -> HttpResponse:
        return _sync_and_return(request)


class ConnectSyncView(SellerRequiredMixin, View):
    """Sellers. POST: fetch the account's state from Stripe now."""

    def post(self, request: HttpRequest) -> HttpResponse:
        return _sync_and_return(request)


class ConnectDashboardView(SellerRequiredMixin, View):
    """Sellers. POST: a one-time login link to their Stripe Express dashboard."""

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            return redirect(seller_stripe_account_dashboard_link(seller=request.user))
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(CONNECT)


# ------------------------------------------------------------------------------
# Local payment simulator: every page 404s when real Stripe keys are configured
# ------------------------------------------------------------------------------
class SimulatorOnlyMixin:
    def dispatch(self, request, *args, **kwargs):
        if not simulator_enabled():
            raise Http404("The payment simulator is off.")
        return super().dispatch(request, *args, **kwargs)


class SimulatorCheckoutView(SimulatorOnlyMixin, View):
    """Anyone holding the session id (like Stripe's hosted page). The test checkout."""

    template_name = "payments/simulator/checkout.html"

    def _render(self, request, session, *, values=None, error="", status=200) -> HttpResponse:
        from catalog.shipping import country_name

        return render(
            request,
            self.template_name,
            {
                "session": session,
                "success_url": redirect_target(session.success_url, session.id),
                "cancel_url": redirect_target(session.cancel_url, session.id),
                "ship_country": (session.shipping_countries or [""])[0],
                "ship_country_name": country_name((session.shipping_countries or [""])[0]),
                "values": values or {},
                "address_error": error,
            },
            status=status,
        )

    def get(self, request: HttpRequest, session_id: str) -> HttpResponse:
        session = get_object_or_404(SimulatedCheckoutSession, pk=session_id)
        return self._render(request, session)

    def post(self, request: HttpRequest, session_id: str) -> HttpResponse:
        session = get_object_or_404(SimulatedCheckoutSession, pk=session_id)
        form = SimulatorCheckoutForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose Pay, Decline, Cancel or Let it expire.")
            return redirect("payments:simulator-checkout", session_id=session.id)
        action = form.cleaned_data["action"]
        if action == "cancel":  # Stripe's back link: nothing happens to the session itself
            return redirect(redirect_target(session.cancel_url, session.id))
        shipping = None
        if action == "pay" and session.shipping_countries:
            shipping = {**form.cleaned_data, "country": session.shipping_countries[0]}
            try:
                shipping_details_build(shipping, allowed_countries=session.shipping_countries)
            except GatewayError as exc:
                return self._render(
                    request, session, values=form.cleaned_data, error=exc.message, status=400
                )
        try:
            if action == "pay":
                session = simulator_session_pay(session_id=session.id, shipping=shipping)
            elif action == "decline":
                session = simulator_session_decline(session_id=session.id)
            else:
                session = simulator_session_expire(session_id=session.id)
        except SimulatorDeliveryError:
            logger.exception("simulator could not deliver an event for %s", session.id)
            messages.error(request, "The simulated event was refused by our webhook (see logs).")
            return redirect("payments:simulator-checkout", session_id=session.id)
        if session.status == session.Status.COMPLETE:
            return redirect(redirect_target(session.success_url, session.id))
        if session.status == session.Status.EXPIRED:
            if action != "expire":
                messages.warning(request, "This checkout session has expired.")
            return redirect(redirect_target(session.cancel_url, session.id))
        messages.error(request, DECLINE_MESSAGE)
        return redirect("payments:simulator-checkout", session_id=session.id)


class _SimulatedAccountMixin(SimulatorOnlyMixin, LoginRequiredMixin):
    """Only the seller the simulated account belongs to; anyone else gets a 404."""

    def get_account(self, account_id: str) -> SimulatedAccount:
        return get_object_or_404(SimulatedAccount, pk=account_id, seller_id=self.request.user.pk)


class SimulatorOnboardingView(_SimulatedAccountMixin, View):
    """The account's seller, through an account link. Stands in for Stripe's onboarding."""

    template_name = "payments/simulator/onboarding.html"

    def _open(self, request: HttpRequest, account_id: str) -> tuple[SimulatedAccount, dict]:
        """The seller's account and the link's signed targets; 404 for a bad link.
        An expired link comes back with `expired` set."""
        account = self.get_account(account_id)
        token = request.GET.get("link", "")
        try:
            link = signing.loads(token, salt=LINK_SALT, max_age=LINK_MAX_AGE_SECONDS)
        except signing.SignatureExpired:
            link = {"expired": True, **signing.loads(token, salt=LINK_SALT)}
        except signing.BadSignature:
            raise Http404("Invalid onboarding link.") from None
        return account, link

    def get(self, request: HttpRequest, account_id: str) -> HttpResponse:
        account, link = self._open(request, account_id)
        if link.get("expired"):  # as on Stripe: to refresh_url, for a new link
            return redirect(link["refresh_url"])
        return render(
            request,
            self.template_name,
            {"account": account, "link": request.GET["link"], "return_url": link["return_url"]},
        )

    def post(self, request: HttpRequest, account_id: str) -> HttpResponse:
        account, link = self._open(request, account_id)
        if link.get("expired"):
            return redirect(link["refresh_url"])
        if request.POST.get("action") == "complete":
            try:
                simulator_account_complete_onboarding(account_id=account.id)
            except SimulatorDeliveryError:
                logger.exception("simulator could not deliver account.updated for %s", account.id)
                messages.error(request, "The simulated event was refused by our webhook.")
        return redirect(link["return_url"])


class SimulatorDashboardView(_SimulatedAccountMixin, TemplateView):
    """The account's seller. Stands in for the Stripe Express dashboard."""

    template_name = "payments/simulator/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["account"] = self.get_account(kwargs["account_id"])
        return context


class SimulatorOrderMoneyView(SimulatorOnlyMixin, StaffRequiredMixin, View):
    """Staff, test mode only (404 with real keys, before anything else): play Stripe's
    side of an order's money — a refund made in the dashboard, a dispute opened, won or
    lost. Each button calls a simulator action, which sends the signed events through
    the real webhook view and processing."""

    template_name = "payments/simulator/order_money.html"

    def _load(self, pk: int):
        order = Order.objects.filter(pk=pk).first()
        if order is None:
            raise Http404("No such order.")
        session = SimulatedCheckoutSession.objects.filter(
            pk=order.stripe_checkout_session_id
        ).first()
        return order, session

    def _render(self, request, order, session, form, *, status=200):
        intent = session.payment_intent if session else None
        return render(
            request,
            self.template_name,
            {
                "order": order,
                "session": session,
                "form": form,
                "stripe_refunds": SimulatedRefund.objects.filter(payment_intent=intent)
                if intent
                else [],
                "stripe_disputes": SimulatedDispute.objects.filter(payment_intent=intent)
                if intent
                else [],
                "disputes": Dispute.objects.filter(order=order),
                "seller_accounts": SimulatedAccount.objects.filter(
                    seller_id__in=order.items.values("seller_id")
                ).order_by("seller_id"),
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        order, session = self._load(pk)
        return self._render(request, order, session, SimulatorMoneyForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        order, session = self._load(pk)
        form = SimulatorMoneyForm(request.POST)
        if not form.is_valid():
            return self._render(request, order, session, form, status=400)
        action, amount = form.cleaned_data["action"], form.cleaned_data["amount"]
        if action in ("balance_short", "balance_ok"):
            # A seller of this order whose Stripe balance is short refuses reversals: the
            # next refund or dispute leaves them a negative balance to settle.
            short = action == "balance_short"
            if not simulator_seller_balance_set_short(
                order_id=order.pk, seller_id=form.cleaned_data["seller_id"] or 0, short=short
            ):
                messages.error(request, "Choose a seller of this order with a Stripe account.")
                return self._render(request, order, session, form, status=400)
            messages.success(
                request,
                "Their Stripe balance is short now: reversals are refused."
                if short
                else "Their Stripe balance is fine again.",
            )
            return redirect("payments:simulator-order-money", pk=order.pk)
        try:
            if session is None or session.payment_status != "paid":
                raise GatewayError("Only a paid checkout can be refunded or disputed.")
            if action == "refund":
                simulator_refund_outside(session_id=session.id, amount_cents=amount)
                done = "Dashboard refund sent (charge.refunded)."
            elif action == "dispute":
                simulator_dispute_open(session_id=session.id, amount_cents=amount)
                done = "Dispute opened (charge.dispute.created, funds_withdrawn)."
            else:
                dispute = SimulatedDispute.objects.filter(
                    pk=form.cleaned_data["dispute_id"],
                    payment_intent=session.payment_intent,
                    status="needs_response",
                ).first()
                if dispute is None:
                    raise GatewayError("Choose an open dispute of this order.")
                simulator_dispute_close(dispute_id=dispute.id, won=action == "win")
                done = f"Dispute {'won' if action == 'win' else 'lost'} (charge.dispute.closed)."
        except GatewayError as exc:
            messages.error(request, exc.message)
            return self._render(request, order, session, form, status=400)
        except SimulatorDeliveryError:
            logger.exception("simulator could not deliver an event for order %s", order.pk)
            messages.error(request, "The simulated event was refused by our webhook (see logs).")
            return self._render(request, order, session, form, status=400)
        messages.success(request, done)
        return redirect("payments:simulator-order-money", pk=order.pk)


def _cart(request: HttpRequest) -> dict:
    return session_cart(request.session)


class CheckoutView(View):
    """Anyone with a non-empty cart: signed-in buyers and guests (who give an email).
    Here, not in orders, because it combines both: the order (orders) and the payment
    (payments, the higher layer)."""

    def _form(self, request, data=None):
        initial = {"email": request.user.email} if request.user.is_authenticated else {}
        return CheckoutForm(data, initial=initial, guest=not request.user.is_authenticated)

    def get(self, request: HttpRequest) -> HttpResponse:
        cart = cart_view(cart=_cart(request), user=request.user, ship_to=ship_to_for(request))
        if cart.is_empty:
            return redirect("orders:cart")
        if cart.needs_ship_to or cart.problems:
            messages.error(
                request,
                "Choose where to ship your printed items."
                if cart.needs_ship_to
                else " ".join(cart.problems),
            )
            return redirect("orders:cart")
        return render(request, "orders/checkout.html", {"cart": cart, "form": self._form(request)})

    @method_decorator(rate_limit(group="checkout", rates=("CHECKOUT_RATE", "CHECKOUT_RATE_IP")))
    def post(self, request: HttpRequest) -> HttpResponse:
        form = self._form(request, request.POST)
        ship_to = ship_to_for(request)
        cart = cart_view(cart=_cart(request), user=request.user, ship_to=ship_to)
        if not form.is_valid():
            return render(request, "orders/checkout.html", {"cart": cart, "form": form}, status=400)
        buyer = request.user if request.user.is_authenticated else None
        try:
            order = order_create_from_cart(
                cart=_cart(request),
                buyer=buyer,
                email=form.cleaned_data["email"],
                ship_to_country=ship_to if cart.has_printed else "",
                terms_accepted=buyer is None and form.cleaned_data.get("accept_terms", False),
                consent_ip=client_ip(request) or None,
                client_ip=client_ip(request),
                session_order_ids=request.session.get(SESSION_CHECKOUTS_KEY, {}).keys(),
            )
            done = request.build_absolute_uri(order_buyer_url(order))
            result = checkout_start(
                order=order,
                success_url=done,
                cancel_url=request.build_absolute_uri(checkout_cancel_url(order)),
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            return render(request, "orders/checkout.html", {"cart": cart, "form": form}, status=400)
        # The cart's items now belong to the order (their stock is reserved); cancelling
        # the payment puts them back (CheckoutCancelView).
        request.session[SESSION_CART_KEY] = {}
        checkouts = dict(request.session.get(SESSION_CHECKOUTS_KEY, {}))
        checkouts[str(order.pk)] = True
        request.session[SESSION_CHECKOUTS_KEY] = dict(list(checkouts.items())[-20:])
        return redirect(result.url)


def checkout_cancel_url(order: Order) -> str:
    """Where the payment page sends a buyer who cancels: the order's cancel view, with
    the guest's token (an account's order is recognised by its session or login)."""
    path = reverse("payments:checkout-cancel", kwargs={"order_pk": order.pk})
    return f"{path}?t={order.access_token}" if order.buyer_id is None else path


class CheckoutCancelView(View):
    """The order's own buyer only: this browser session started its checkout, or the
    signed-in buyer, or the order's access token (constant time). GET, because payment
    pages redirect here. Expires the payment session (through the gateway), releases
    the stock, puts the items back in the cart and shows the cart. Anyone else: 404."""

    def get(self, request: HttpRequest, order_pk: int) -> HttpResponse:
        order = Order.objects.filter(pk=order_pk).first()
        if order is None or not _may_cancel(request, order):
            raise Http404("No such checkout.")
        outcome = checkout_cancel(order=order)
        if outcome == CancelOutcome.PAID:
            messages.success(request, "Your payment went through after all.")
            return redirect(order_buyer_url(order))
        if outcome == CancelOutcome.WAITING:
            messages.info(request, "Your payment is still being processed.")
            return redirect(order_buyer_url(order))
        request.session[SESSION_CART_KEY] = cart_restore_from_order(
            cart=_cart(request), order=order
        )
        if order.ship_to_country:
            request.session.setdefault(SESSION_SHIP_TO_KEY, order.ship_to_country)
        messages.info(
            request, "Payment cancelled: nothing was charged. Your cart is as you left it."
        )
        return redirect("orders:cart")


def _may_cancel(request: HttpRequest, order: Order) -> bool:
    from django.utils.crypto import constant_time_compare

    if str(order.pk) in request.session.get(SESSION_CHECKOUTS_KEY, {}):
        return True
    if request.user.is_authenticated and order.buyer_id == request.user.pk:
        return True
    token = access_token_from(request.GET.get("t"))
    return bool(token) and constant_time_compare(token, order.access_token)
