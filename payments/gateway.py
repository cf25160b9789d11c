"""The payment gateway: the only module that talks to Stripe's API.

`get_gateway()` returns `StripeGateway` when `STRIPE_SECRET_KEY` is set, else the local
payment simulator (`payments.simulator.SimulatorGateway`), which implements the same
`PaymentGateway` protocol and keeps its state in the database. Callers pass our own
idempotency keys (`checkout-order-<id>`, `transfer-order-<id>-seller-<id>`,
`connect-account-seller-<id>`), so a retried call never charges, pays or creates twice.

Every key we send carries a per-installation prefix (`stripe_key`), so two
installations sharing one Stripe account (or a database reset) never collide.

Errors: `GatewayUnavailable` (network, 5xx, rate limit: retry later) is a
`GatewayError`; `AccountUnavailable` means Stripe no longer gives us a connected account
(deauthorized or deleted); any other refusal is a plain `GatewayError` with a message
safe to show. Stripe saves a key's first answer, errors included, for about 24 hours:
callers that retry after an answered error use a new key and look for the object first
(`find_transfer`, `find_refund`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

import stripe
from django.conf import settings

from orders.models import order_transfer_group

logger = logging.getLogger(__name__)

# Pinned: the request shapes below are written and tested against this version.
STRIPE_API_VERSION = "2026-10-28.endive"
# Stripe's own default is 300 s; the simulator signs "now", so the same rule holds.
WEBHOOK_TOLERANCE_SECONDS = 300
# The library waits 80 s by default: longer than a web request or a task should hang.
HTTP_TIMEOUT_SECONDS = 30
# Stripe's ids fit in 255 characters; so do our columns that store them.
MAX_ID_LENGTH = 255


class GatewayError(Exception):
    """The payment provider refused or failed. `message` is safe to show to a user."""

    def __init__(self, message: str, *, code: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code


class GatewayUnavailable(GatewayError):
    """A transient failure (network, 5xx, rate limit): retry later with the same key."""


class AccountUnavailable(GatewayError):
    """Stripe no longer returns this connected account to us (the seller disconnected
    the platform, or the account was deleted): it can never be paid."""


class InvalidSignature(Exception):
    """A webhook whose signature, timestamp or body does not verify."""


@dataclass(frozen=True)
class LineItem:
    name: str
    unit_amount_cents: int
    quantity: int
    currency: str


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


@dataclass(frozen=True)
class SessionState:
    id: str
    status: str  # open / complete / expired
    payment_status: str  # paid / unpaid / no_payment_required
    payment_intent_id: str
    charge_id: str
    order_id: int | None
    # What Stripe charged (None while unknown, e.g. a recorded session without it).
    amount_total: int | None = None
    currency: str = ""
    # Stripe's processing fee, from the charge's balance transaction (settlement currency)
    processing_fee_cents: int | None = None
    processing_fee_currency: str = ""
    # The shipping address the buyer gave (printed items only), as
    # {name, line1, line2, city, region, postal_code, country, phone}; None when absent.
    shipping_address: dict | None = None


@dataclass(frozen=True)
class TransferResult:
    """A Stripe Transfer as created or found: what was actually sent, and where."""

    id: str
    amount_cents: int
    currency: str
    destination: str


@dataclass(frozen=True)
class RefundResult:
    id: str
    amount_cents: int
    status: str  # pending / requires_action / succeeded / failed / canceled
    metadata: dict = field(default_factory=dict)
    payment_intent_id: str = ""


@dataclass(frozen=True)
class ReversalResult:
    id: str
    amount_cents: int
    transfer_id: str


@dataclass(frozen=True)
class DisputeState:
    id: str
    charge_id: str
    payment_intent_id: str
    amount_cents: int
    currency: str
    reason: str
    status: str
    evidence_due_by: int | None  # a Unix timestamp


@dataclass(frozen=True)
class AccountState:
    id: str
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool
    requirements_due: list[str] = field(default_factory=list)


class PaymentGateway(Protocol):
    def create_checkout_session(
        self,
        *,
        order_id: int,
        email: str,
        line_items: list[LineItem],
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
        expires_at: int | None = None,
        ship_to_country: str = "",
    ) -> CheckoutSession: ...

    def retrieve_checkout_session(self, session_id: str) -> SessionState: ...

    def expire_checkout_session(self, session_id: str) -> SessionState: ...

    def create_transfer(
        self,
        *,
        amount_cents: int,
        currency: str,
        destination: str,
        source_transaction: str,
        transfer_group: str,
        idempotency_key: str,
        metadata: dict,
    ) -> TransferResult: ...

    def find_transfer(self, *, transfer_group: str, metadata: dict) -> TransferResult | None: ...

    def create_refund(
        self, *, payment_intent_id: str, amount_cents: int, idempotency_key: str, metadata: dict
    ) -> RefundResult: ...

    def find_refund(self, *, payment_intent_id: str, metadata: dict) -> RefundResult | None: ...

    def list_refunds(self, *, payment_intent_id: str) -> list[RefundResult]: ...

    def create_transfer_reversal(
        self, *, transfer_id: str, amount_cents: int, idempotency_key: str, metadata: dict
    ) -> ReversalResult: ...

    def find_transfer_reversal(
        self, *, transfer_id: str, metadata: dict
    ) -> ReversalResult | None: ...

    def retrieve_dispute(self, dispute_id: str) -> DisputeState: ...

    def create_express_account(
        self, *, email: str, seller_id: int, idempotency_key: str
    ) -> str: ...

    def create_account_link(self, *, account_id: str, refresh_url: str, return_url: str) -> str: ...

    def retrieve_account(self, account_id: str) -> AccountState: ...

    def create_login_link(self, account_id: str) -> str: ...

    def construct_event(self, *, payload: bytes, signature: str, secret: str) -> dict: ...


def get_gateway() -> PaymentGateway:
    """Stripe when a secret key is configured, else the local payment simulator."""
    if settings.STRIPE_SECRET_KEY:
        return StripeGateway()
    from payments.simulator import SimulatorGateway

    return SimulatorGateway()


# ------------------------------------------------------------------------------
# What we tell Stripe about our objects (shared by both gateways)
# ------------------------------------------------------------------------------
def idempotency_prefix() -> str:
    """This installation's prefix: STRIPE_IDEMPOTENCY_PREFIX, else the database's own
    random `SiteConfig.installation_id` (a reset database gets a new one)."""
    if settings.STRIPE_IDEMPOTENCY_PREFIX:
        return settings.STRIPE_IDEMPOTENCY_PREFIX
    from marketplace.selectors import site_config_get

    return f"hc3d-{site_config_get().installation_id}"


def stripe_key(base: str) -> str:
    """The idempotency key sent to Stripe for our key `base` (e.g. `transfer-order-1-…`)."""
    return f"{idempotency_prefix()}-{base}"[:255]


def metadata_matches(found: dict | None, wanted: dict) -> bool:
    found = found or {}
    return all(str(found.get(k)) == str(v) for k, v in wanted.items())


def order_metadata(order_id: int) -> dict[str, str]:
    """The metadata that ties a Checkout Session or PaymentIntent to our order."""
    return {"order_id": str(order_id)}


def express_controller() -> dict:
    """An Express account in controller properties (`type="express"` is deprecated in
    this API version): Stripe-hosted onboarding and Express Dashboard, the platform pays
    fees and carries negative balances."""
    return {
        "stripe_dashboard": {"type": "express"},
        "fees": {"payer": "application"},
        "losses": {"payments": "application"},
        "requirement_collection": "stripe",
    }


# ------------------------------------------------------------------------------
# Webhook signatures (shared by both gateways: the simulator signs like Stripe)
# ------------------------------------------------------------------------------
def event_verify(*, payload: bytes, signature: str, secret: str) -> dict:
    """Verify a `Stripe-Signature` header over the raw body and return the event dict.

    Uses the stripe library's scheme (`t=<ts>,v1=<hmac-sha256 of "<ts>.<body>">`, within
    the tolerance). Raises `InvalidSignature` for a bad or stale signature, a body that is
    not JSON, or JSON that is not a Stripe event.
    """
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
        )
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidSignature(str(exc)[:200]) from exc
    if (
        not isinstance(event, dict)
        or event.get("object") != "event"
        or not _is_id(event.get("id"))
        or not isinstance(event.get("type"), str)
        or not isinstance(event.get("data"), dict)
        or (event.get("account") is not None and not _is_id(event["account"]))
    ):
        raise InvalidSignature("The body is not a Stripe event.")
    return event


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH


# ------------------------------------------------------------------------------
# Stripe
# ------------------------------------------------------------------------------
def _id_of(value: Any) -> str:
    """An expandable field: an id string, an expanded object (dict), or None."""
    if isinstance(value, dict):
        return value.get("id") or ""
    return value or ""


def _order_id_of(session: dict) -> int | None:
    raw = (session.get("metadata") or {}).get("order_id") or session.get("client_reference_id")
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def shipping_address_from(session: dict) -> dict | None:
    """The shipping address of a Checkout Session, read defensively: API versions from
    2025 put it in `collected_information.shipping_details`; older ones had
    `shipping_details` (and before that `shipping`) at the top level. The phone, when
    collected, is in `customer_details.phone`. None when there is no address."""
    collected = session.get("collected_information")
    details = collected.get("shipping_details") if isinstance(collected, dict) else None
    if not isinstance(details, dict):
        details = session.get("shipping_details") or session.get("shipping")
    if not isinstance(details, dict):
        return None
    address = details.get("address")
    if not isinstance(address, dict) or not address.get("country"):
        return None
    customer = session.get("customer_details")
    phone = (customer.get("phone") if isinstance(customer, dict) else None) or details.get("phone")

    def text(value: Any) -> str:
        return value.strip() if isinstance(value, str) else ""

    return {
        "name": text(details.get("name")),
        "line1": text(address.get("line1")),
        "line2": text(address.get("line2")),
        "city": text(address.get("city")),
        "region": text(address.get("state")),
        "postal_code": text(address.get("postal_code")),
        "country": text(address.get("country")).upper(),
        "phone": text(phone),
    }


def session_state_from(session: dict) -> SessionState:
    """A Checkout Session object (dict) as our `SessionState`."""
    payment_intent = session.get("payment_intent")
    charge = payment_intent.get("latest_charge") if isinstance(payment_intent, dict) else None
    balance = charge.get("balance_transaction") if isinstance(charge, dict) else None
    fee = balance.get("fee") if isinstance(balance, dict) else None
    amount_total = session.get("amount_total")
    return SessionState(
        id=session["id"],
        status=session.get("status") or "",
        payment_status=session.get("payment_status") or "",
        payment_intent_id=_id_of(payment_intent),
        charge_id=_id_of(charge),
        order_id=_order_id_of(session),
        amount_total=amount_total if isinstance(amount_total, int) else None,
        currency=(session.get("currency") or "").lower(),
        processing_fee_cents=fee if isinstance(fee, int) else None,
        processing_fee_currency=(balance.get("currency") or "").lower() if fee is not None else "",
        shipping_address=shipping_address_from(session),
    )


def transfer_result_from(transfer: dict) -> TransferResult:
    return TransferResult(
        id=transfer["id"],
        amount_cents=int(transfer.get("amount") or 0),
        currency=(transfer.get("currency") or "").lower(),
        destination=_id_of(transfer.get("destination")),
    )


def refund_result_from(refund: dict) -> RefundResult:
    return RefundResult(
        id=refund["id"],
        amount_cents=int(refund.get("amount") or 0),
        status=refund.get("status") or "",
        metadata={str(k): str(v) for k, v in (refund.get("metadata") or {}).items()},
        payment_intent_id=_id_of(refund.get("payment_intent")),
    )


def reversal_result_from(reversal: dict) -> ReversalResult:
    return ReversalResult(
        id=reversal["id"],
        amount_cents=int(reversal.get("amount") or 0),
        transfer_id=_id_of(reversal.get("transfer")),
    )


def dispute_state_from(dispute: dict) -> DisputeState:
    evidence = dispute.get("evidence_details") or {}
    due = evidence.get("due_by")
    return DisputeState(
        id=dispute["id"],
        charge_id=_id_of(dispute.get("charge")),
        payment_intent_id=_id_of(dispute.get("payment_intent")),
        amount_cents=int(dispute.get("amount") or 0),
        currency=(dispute.get("currency") or "").lower(),
        reason=dispute.get("reason") or "",
        status=dispute.get("status") or "",
        evidence_due_by=due if isinstance(due, int) else None,
    )


def account_state_from(account: dict) -> AccountState:
    requirements = account.get("requirements") or {}
    return AccountState(
        id=account["id"],
        charges_enabled=bool(account.get("charges_enabled")),
        payouts_enabled=bool(account.get("payouts_enabled")),
        details_submitted=bool(account.get("details_submitted")),
        requirements_due=list(requirements.get("currently_due") or []),
    )


def _translate(exc: stripe.StripeError) -> GatewayError:
    """Stripe's exception as ours. Only Stripe's user-facing card message is passed on;
    anything else gets a generic message (the detail goes to the log, not the user)."""
    if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError) or (
        isinstance(exc, stripe.APIError) and not isinstance(exc, stripe.CardError)
    ):
        return GatewayUnavailable("The payment provider is unavailable. Please try again.")
    if isinstance(exc, stripe.CardError):
        return GatewayError(exc.user_message or "The card was declined.", code=exc.code or "")
    status = getattr(exc, "http_status", None)
    if status is not None and status >= 500:
        return GatewayUnavailable("The payment provider is unavailable. Please try again.")
    return GatewayError(
        "The payment provider refused the request.", code=getattr(exc, "code", "") or ""
    )


class StripeGateway:
    """`PaymentGateway` over Stripe's API (stripe-python's `StripeClient`).

    `http_client` is injectable so tests can record the exact requests we send.
    Network retries reuse our idempotency key, so a retried POST is deduplicated.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        api_base: str | None = None,
        http_client: stripe.HTTPClient | None = None,
        max_network_retries: int = 2,
    ):
        api_key = api_key or settings.STRIPE_SECRET_KEY
        if not api_key:
            raise GatewayError("Stripe is not configured (no STRIPE_SECRET_KEY).")
        api_base = api_base or settings.STRIPE_API_BASE
        # The module-level version is what stripe's helpers (and any old-style call) use.
        stripe.api_version = STRIPE_API_VERSION
        kwargs: dict[str, Any] = {
            "stripe_version": STRIPE_API_VERSION,
            "max_network_retries": max_network_retries,
        }
        if api_base:
            kwargs["base_addresses"] = {"api": api_base.rstrip("/")}
        if http_client is None:
            try:
                http_client = stripe.new_default_http_client(timeout=HTTP_TIMEOUT_SECONDS)
            except TypeError:  # a fallback client without a timeout option
                http_client = None
        if http_client is not None:
            kwargs["http_client"] = http_client
        self.client = stripe.StripeClient(api_key, **kwargs)

    def _call(self, what: str, fn, *args, **kwargs) -> dict:
        try:
            result = fn(*args, **kwargs)
        except stripe.StripeError as exc:
            logger.warning(
                "stripe %s failed: %s %s (request %s)",
                what,
                type(exc).__name__,
                exc.user_message or str(exc)[:200],
                getattr(exc, "request_id", ""),
            )
            raise _translate(exc) from exc
        return result.to_dict()

    def create_checkout_session(
        self,
        *,
        order_id: int,
        email: str,
        line_items: list[LineItem],
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
        expires_at: int | None = None,
        ship_to_country: str = "",
    ) -> CheckoutSession:
        """`ship_to_country` (printed items): Stripe collects a shipping address, in
        that country only — the one shipping was priced for."""
        params: dict[str, Any] = {
            "mode": "payment",
            # Cards only: paid or declined while the buyer waits (docs/DECISIONS.md).
            "payment_method_types": ["card"],
            "line_items": [
                {
                    "price_data": {
                        "currency": item.currency.lower(),
                        "unit_amount": item.unit_amount_cents,
                        "product_data": {"name": item.name[:250]},
                    },
                    "quantity": item.quantity,
                }
                for item in line_items
            ],
            "customer_email": email,
            "client_reference_id": str(order_id),
            "metadata": order_metadata(order_id),
            "payment_intent_data": {
                "transfer_group": order_transfer_group(order_id),
                "metadata": order_metadata(order_id),
            },
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        if expires_at is not None:
            params["expires_at"] = expires_at
        if ship_to_country:
            params["shipping_address_collection"] = {"allowed_countries": [ship_to_country.upper()]}
        session = self._call(
            "checkout.session create",
            self.client.v1.checkout.sessions.create,
            params,
            {"idempotency_key": idempotency_key},
        )
        return CheckoutSession(id=session["id"], url=session["url"])

    def retrieve_checkout_session(self, session_id: str) -> SessionState:
        session = self._call(
            "checkout.session retrieve",
            self.client.v1.checkout.sessions.retrieve,
            session_id,
            {"expand": ["payment_intent.latest_charge.balance_transaction"]},
        )
        return session_state_from(session)

    def expire_checkout_session(self, session_id: str) -> SessionState:
        """Expire an open session so it can never be paid. A session that is no longer
        open (complete, or already expired) cannot be expired: Stripe refuses, and its
        current state is returned instead, for the caller to act on."""
        try:
            self._call(
                "checkout.session expire", self.client.v1.checkout.sessions.expire, session_id
            )
        except GatewayUnavailable:
            raise
        except GatewayError:
            pass
        return self.retrieve_checkout_session(session_id)

    def create_transfer(
        self,
        *,
        amount_cents: int,
        currency: str,
        destination: str,
        source_transaction: str,
        transfer_group: str,
        idempotency_key: str,
        metadata: dict,
    ) -> str:
        transfer = self._call(
            "transfer create",
            self.client.v1.transfers.create,
            {
                "amount": amount_cents,
                "currency": currency.lower(),
                "destination": destination,
                "source_transaction": source_transaction,
                "transfer_group": transfer_group,
                "metadata": {str(k): str(v) for k, v in metadata.items()},
            },
            {"idempotency_key": idempotency_key},
        )
        return transfer_result_from(transfer)

    def find_transfer(self, *, transfer_group: str, metadata: dict) -> TransferResult | None:
        """The transfer of `transfer_group` whose metadata matches, if Stripe has one."""
        page = self._call(
            "transfer list",
            self.client.v1.transfers.list,
            {"transfer_group": transfer_group, "limit": 100},
        )
        for transfer in page.get("data") or []:
            if metadata_matches(transfer.get("metadata"), metadata):
                return transfer_result_from(transfer)
        return None

    def create_refund(
        self, *, payment_intent_id: str, amount_cents: int, idempotency_key: str, metadata: dict
    ) -> RefundResult:
        refund = self._call(
            "refund create",
            self.client.v1.refunds.create,
            {
                "payment_intent": payment_intent_id,
                "amount": amount_cents,
                "metadata": {str(k): str(v) for k, v in metadata.items()},
            },
            {"idempotency_key": idempotency_key},
        )
        return refund_result_from(refund)

    def find_refund(self, *, payment_intent_id: str, metadata: dict) -> RefundResult | None:
        for refund in self.list_refunds(payment_intent_id=payment_intent_id):
            if metadata_matches(refund.metadata, metadata):
                return refund
        return None

    def list_refunds(self, *, payment_intent_id: str) -> list[RefundResult]:
        """Every refund of a payment (at most 100: far more than one order can have)."""
        page = self._call(
            "refund list",
            self.client.v1.refunds.list,
            {"payment_intent": payment_intent_id, "limit": 100},
        )
        return [refund_result_from(refund) for refund in page.get("data") or []]

    def create_transfer_reversal(
        self, *, transfer_id: str, amount_cents: int, idempotency_key: str, metadata: dict
    ) -> ReversalResult:
        reversal = self._call(
            "transfer reversal create",
            self.client.v1.transfers.reversals.create,
            transfer_id,
            {
                "amount": amount_cents,
                "metadata": {str(k): str(v) for k, v in metadata.items()},
            },
            {"idempotency_key": idempotency_key},
        )
        return reversal_result_from(reversal)

    def find_transfer_reversal(self, *, transfer_id: str, metadata: dict) -> ReversalResult | None:
        page = self._call(
            "transfer reversal list",
            self.client.v1.transfers.reversals.list,
            transfer_id,
            {"limit": 100},
        )
        for reversal in page.get("data") or []:
            if metadata_matches(reversal.get("metadata"), metadata):
                return reversal_result_from(reversal)
        return None

    def retrieve_dispute(self, dispute_id: str) -> DisputeState:
        dispute = self._call("dispute retrieve", self.client.v1.disputes.retrieve, dispute_id)
        return dispute_state_from(dispute)

    def create_express_account(self, *, email: str, seller_id: int, idempotency_key: str) -> str:
        account = self._call(
            "account create",
            self.client.v1.accounts.create,
            {
                "controller": express_controller(),
                "email": email,
                "capabilities": {"transfers": {"requested": True}},
                "metadata": {"seller_id": str(seller_id)},
            },
            {"idempotency_key": idempotency_key},
        )
        return account["id"]

    def create_account_link(self, *, account_id: str, refresh_url: str, return_url: str) -> str:
        link = self._call(
            "account_link create",
            self.client.v1.account_links.create,
            {
                "account": account_id,
                "type": "account_onboarding",
                "refresh_url": refresh_url,
                "return_url": return_url,
            },
        )
        return link["url"]

    def retrieve_account(self, account_id: str) -> AccountState:
        """Raises `AccountUnavailable` when Stripe no longer lets us see the account: a
        deauthorized platform gets a permission error, a deleted account a 404."""
        try:
            account = self.client.v1.accounts.retrieve(account_id)
        except (stripe.PermissionError, stripe.AuthenticationError) as exc:
            raise AccountUnavailable("Stripe no longer gives us access to this account.") from exc
        except stripe.InvalidRequestError as exc:
            if getattr(exc, "http_status", None) == 404 or exc.code in (
                "resource_missing",
                "account_invalid",
            ):
                raise AccountUnavailable("Stripe no longer has this account.") from exc
            raise _translate(exc) from exc
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        return account_state_from(account.to_dict())

    def create_login_link(self, account_id: str) -> str:
        link = self._call(
            "login_link create", self.client.v1.accounts.login_links.create, account_id
        )
        return link["url"]

    def construct_event(self, *, payload: bytes, signature: str, secret: str) -> dict:
        return event_verify(payload=payload, signature=signature, secret=secret)
