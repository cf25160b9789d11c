"""The local payment simulator: Stripe's part, played locally when no Stripe key is set.

`SimulatorGateway` implements `payments.gateway.PaymentGateway`. Its state lives in the
database (`SimulatedCheckoutSession`, `SimulatedAccount`), so web and worker processes
agree. The buyer pays on a clearly labelled test page; each outcome becomes an event of
the same JSON shape as Stripe's, signed with the webhook secret exactly as Stripe signs,
and delivered to the same webhook view that real Stripe calls — so intake, storage and
processing are the code paths production runs.

Delivery is an in-process call of the webhook view with a request built from a WSGI
environ (the same object runserver and gunicorn hand to Django), not an HTTP POST to
ourselves: a self-request needs the server's own public address (unknown behind a
proxy or in a container), has to pass TLS and ALLOWED_HOSTS, and deadlocks a gunicorn
sync worker pool whose every worker is busy waiting on itself.

Never active with real keys: `SimulatorGateway()` refuses to construct and every
simulator page answers 404 when `STRIPE_SECRET_KEY` is set.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import secrets
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.wsgi import WSGIRequest
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone

from orders.models import order_transfer_group
from payments.gateway import (
    STRIPE_API_VERSION,
    AccountState,
    AccountUnavailable,
    CheckoutSession,
    DisputeState,
    GatewayError,
    LineItem,
    RefundResult,
    ReversalResult,
    SessionState,
    TransferResult,
    event_verify,
    express_controller,
    metadata_matches,
    order_metadata,
    shipping_address_from,
)

logger = logging.getLogger(__name__)

# Stripe's default lifetime of a Checkout Session.
DEFAULT_SESSION_SECONDS = 24 * 60 * 60
# What a new Express account still owes before it can be paid (a typical US list).
NEW_ACCOUNT_REQUIREMENTS = [
    "business_profile.url",
    "external_account",
    "individual.dob.day",
    "individual.first_name",
    "individual.last_name",
    "tos_acceptance.date",
]


def simulator_enabled() -> bool:
    """True only in the embedded default: no Stripe key, so nothing real can be charged."""
    return bool(settings.PAYMENT_SIMULATOR) and not settings.STRIPE_SECRET_KEY


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _new_session_id() -> str:
    return _new_id("cs_sim")


def _new_account_id() -> str:
    return _new_id("acct_sim")


# ------------------------------------------------------------------------------
# Stripe's side of the state
# ------------------------------------------------------------------------------
class SimulatedCheckoutSession(models.Model):
    """A Checkout Session as the simulator's "Stripe" knows it (not our order record)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETE = "complete", "Complete"
        EXPIRED = "expired", "Expired"

    id = models.CharField(primary_key=True, max_length=64, default=_new_session_id)
    idempotency_key = models.CharField(max_length=255, unique=True)
    # Not a foreign key: Stripe knows our order only through metadata.
    order_id = models.PositiveBigIntegerField(db_index=True)
    email = models.EmailField()
    amount_total = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    line_items = models.JSONField(default=list)
    success_url = models.TextField()
    cancel_url = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    payment_status = models.CharField(max_length=20, default="unpaid")
    payment_intent = models.CharField(max_length=64, blank=True)
    charge = models.CharField(max_length=64, blank=True)
    # `shipping_address_collection[allowed_countries]` as sent; empty: no address asked.
    shipping_countries = models.JSONField(default=list, blank=True)
    # What the buyer typed, in Stripe's `shipping_details` shape ({name, phone, address}).
    shipping_details = models.JSONField(null=True, blank=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "payments"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"


def simulated_processing_fee(amount_cents: int) -> int:
    """Stripe's standard US card price, 2.9% + 30¢, rounded half up: what the simulated
    charge's balance transaction reports as `fee`."""
    return (amount_cents * 29 + 500) // 1000 + 30


class SimulatedTransfer(models.Model):
    """A Transfer as the simulator's "Stripe" holds it (so lookups and tests can see
    exactly what was sent, and a repeated key returns the first object, as on Stripe)."""

    id = models.CharField(primary_key=True, max_length=64)
    idempotency_key = models.CharField(max_length=255, unique=True)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    destination = models.CharField(max_length=64)
    source_transaction = models.CharField(max_length=64)
    transfer_group = models.CharField(max_length=64, db_index=True)
    metadata = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "payments"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.id

    @property
    def result(self) -> TransferResult:
        return TransferResult(
            id=self.id,
            amount_cents=self.amount,
            currency=self.currency,
            destination=self.destination,
        )


class SimulatedRefund(models.Model):
    """A Refund of a simulated payment intent."""

    id = models.CharField(primary_key=True, max_length=64)
    idempotency_key = models.CharField(max_length=255, unique=True)
    payment_intent = models.CharField(max_length=64, db_index=True)
    amount = models.BigIntegerField()
    status = models.CharField(max_length=20, default="succeeded")
    metadata = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "payments"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.id

    @property
    def result(self) -> RefundResult:
        return RefundResult(
            id=self.id,
            amount_cents=self.amount,
            status=self.status,
            metadata=dict(self.metadata),
            payment_intent_id=self.payment_intent,
        )


class SimulatedTransferReversal(models.Model):
    id = models.CharField(primary_key=True, max_length=64)
    idempotency_key = models.CharField(max_length=255, unique=True)
    transfer = models.ForeignKey(SimulatedTransfer, on_delete=models.CASCADE)
    amount = models.BigIntegerField()
    metadata = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "payments"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.id

    @property
    def result(self) -> ReversalResult:
        return ReversalResult(id=self.id, amount_cents=self.amount, transfer_id=self.transfer_id)


class SimulatedDispute(models.Model):
    id = models.CharField(primary_key=True, max_length=64)
    payment_intent = models.CharField(max_length=64)
    charge = models.CharField(max_length=64)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=40, default="fraudulent")
    status = models.CharField(max_length=30, default="needs_response")
    evidence_due_by = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "payments"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.id

    @property
    def state(self) -> DisputeState:
        return DisputeState(
            id=self.id,
            charge_id=self.charge,
            payment_intent_id=self.payment_intent,
            amount_cents=self.amount,
            currency=self.currency,
            reason=self.reason,
            status=self.status,
            evidence_due_by=int(self.evidence_due_by.timestamp()),
        )


class SimulatedAccount(models.Model):
    """A connected Express account as the simulator's "Stripe" knows it."""

    id = models.CharField(primary_key=True, max_length=64, default=_new_account_id)
    idempotency_key = models.CharField(max_length=255, unique=True)
    seller_id = models.PositiveBigIntegerField(db_index=True)
    email = models.EmailField()
    charges_enabled = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    details_submitted = models.BooleanField(default=False)
    requirements_due = models.JSONField(default=list, blank=True)
    # The seller disconnected the platform: Stripe stops returning the account to us.
    deauthorized = models.BooleanField(default=False)
    # Their Stripe balance is short: transfer reversals are refused (a negative balance).
    reversals_refused = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "payments"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.id

    @property
    def state(self) -> AccountState:
        return AccountState(
            id=self.id,
            charges_enabled=self.charges_enabled,
            payouts_enabled=self.payouts_enabled,
            details_submitted=self.details_submitted,
            requirements_due=list(self.requirements_due),
        )


# ------------------------------------------------------------------------------
# The gateway
# ------------------------------------------------------------------------------
class SimulatorGateway:
    """`PaymentGateway` played locally. Same idempotency rule as Stripe: a repeated key
    returns the object the first call created."""

    def __init__(self) -> None:
        if not simulator_enabled():
            raise ImproperlyConfigured(
                "The payment simulator is off when STRIPE_SECRET_KEY is set; use StripeGateway."
            )

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
        existing = SimulatedCheckoutSession.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            currencies = {item.currency.lower() for item in line_items}
            if not line_items or len(currencies) != 1:
                raise GatewayError("A checkout needs line items in one currency.")
            if any(i.quantity < 1 or i.unit_amount_cents < 0 for i in line_items):
                raise GatewayError("Invalid line item amount or quantity.")
            expires = (
                datetime.fromtimestamp(expires_at, tz=UTC)
                if expires_at
                else timezone.now() + timedelta(seconds=DEFAULT_SESSION_SECONDS)
            )
            try:
                with transaction.atomic():
                    existing = SimulatedCheckoutSession.objects.create(
                        idempotency_key=idempotency_key,
                        order_id=order_id,
                        email=email,
                        amount_total=sum(i.unit_amount_cents * i.quantity for i in line_items),
                        currency=currencies.pop(),
                        line_items=[
                            {
                                "name": i.name,
                                "unit_amount": i.unit_amount_cents,
                                "quantity": i.quantity,
                                "amount_total": i.unit_amount_cents * i.quantity,
                            }
                            for i in line_items
                        ],
                        success_url=success_url,
                        cancel_url=cancel_url,
                        expires_at=expires,
                        shipping_countries=[ship_to_country.upper()] if ship_to_country else [],
                    )
            except IntegrityError:  # the same key, created concurrently
                existing = SimulatedCheckoutSession.objects.get(idempotency_key=idempotency_key)
        return CheckoutSession(
            id=existing.id,
            url=reverse("payments:simulator-checkout", kwargs={"session_id": existing.id}),
        )

    def retrieve_checkout_session(self, session_id: str) -> SessionState:
        session = SimulatedCheckoutSession.objects.filter(pk=session_id).first()
        if session is None:
            raise GatewayError(f"No such checkout session: {session_id}")
        paid = session.payment_status == "paid"
        return SessionState(
            id=session.id,
            status=session.status,
            payment_status=session.payment_status,
            payment_intent_id=session.payment_intent,
            charge_id=session.charge,
            order_id=session.order_id,
            amount_total=session.amount_total,
            currency=session.currency,
            processing_fee_cents=simulated_processing_fee(session.amount_total) if paid else None,
            processing_fee_currency=session.currency if paid else "",
            shipping_address=shipping_address_from(session_object(session)),
        )

    def expire_checkout_session(self, session_id: str) -> SessionState:
        if not SimulatedCheckoutSession.objects.filter(pk=session_id).exists():
            raise GatewayError(f"No such checkout session: {session_id}")
        simulator_session_expire(session_id=session_id)
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
    ) -> TransferResult:
        existing = SimulatedTransfer.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing.result
        if amount_cents <= 0 or not destination or not currency or not source_transaction:
            raise GatewayError("Invalid transfer.")
        account = SimulatedAccount.objects.filter(pk=destination).first()
        if account is None or account.deauthorized or not account.payouts_enabled:
            raise GatewayError("The destination account cannot receive transfers.")
        transfer, _ = _create_once(
            SimulatedTransfer,
            prefix="tr_sim",
            idempotency_key=idempotency_key,
            amount=amount_cents,
            currency=currency.lower(),
            destination=destination,
            source_transaction=source_transaction,
            transfer_group=transfer_group,
            metadata={str(k): str(v) for k, v in metadata.items()},
        )
        return transfer.result

    def find_transfer(self, *, transfer_group: str, metadata: dict) -> TransferResult | None:
        for transfer in SimulatedTransfer.objects.filter(transfer_group=transfer_group):
            if metadata_matches(transfer.metadata, metadata):
                return transfer.result
        return None

    def create_refund(
        self, *, payment_intent_id: str, amount_cents: int, idempotency_key: str, metadata: dict
    ) -> RefundResult:
        existing = SimulatedRefund.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing.result
        session = SimulatedCheckoutSession.objects.filter(
            payment_intent=payment_intent_id, payment_status="paid"
        ).first()
        if session is None:
            raise GatewayError(f"No such payment_intent: {payment_intent_id}")
        refunded = sum(
            SimulatedRefund.objects.filter(payment_intent=payment_intent_id).values_list(
                "amount", flat=True
            )
        )
        if amount_cents <= 0 or refunded + amount_cents > session.amount_total:
            raise GatewayError("The refund exceeds what remains of the charge.")
        refund, created = _create_once(
            SimulatedRefund,
            prefix="re_sim",
            idempotency_key=idempotency_key,
            payment_intent=payment_intent_id,
            amount=amount_cents,
            metadata={str(k): str(v) for k, v in metadata.items()},
        )
        if created:
            _deliver_charge_refunded_after_commit(session)
        return refund.result

    def find_refund(self, *, payment_intent_id: str, metadata: dict) -> RefundResult | None:
        for refund in SimulatedRefund.objects.filter(payment_intent=payment_intent_id):
            if metadata_matches(refund.metadata, metadata):
                return refund.result
        return None

    def list_refunds(self, *, payment_intent_id: str) -> list[RefundResult]:
        return [r.result for r in SimulatedRefund.objects.filter(payment_intent=payment_intent_id)]

    def create_transfer_reversal(
        self, *, transfer_id: str, amount_cents: int, idempotency_key: str, metadata: dict
    ) -> ReversalResult:
        existing = SimulatedTransferReversal.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing.result
        transfer = SimulatedTransfer.objects.filter(pk=transfer_id).first()
        if transfer is None:
            raise GatewayError(f"No such transfer: {transfer_id}")
        reversed_ = sum(
            SimulatedTransferReversal.objects.filter(transfer=transfer).values_list(
                "amount", flat=True
            )
        )
        if amount_cents <= 0 or reversed_ + amount_cents > transfer.amount:
            raise GatewayError("The reversal exceeds what remains of the transfer.")
        account = SimulatedAccount.objects.filter(pk=transfer.destination).first()
        if account is not None and account.reversals_refused:
            raise GatewayError(
                "The connected account's balance is insufficient for this reversal.",
                code="balance_insufficient",
            )
        reversal, _ = _create_once(
            SimulatedTransferReversal,
            prefix="trr_sim",
            idempotency_key=idempotency_key,
            transfer=transfer,
            amount=amount_cents,
            metadata={str(k): str(v) for k, v in metadata.items()},
        )
        return reversal.result

    def find_transfer_reversal(self, *, transfer_id: str, metadata: dict) -> ReversalResult | None:
        for reversal in SimulatedTransferReversal.objects.filter(transfer_id=transfer_id):
            if metadata_matches(reversal.metadata, metadata):
                return reversal.result
        return None

    def retrieve_dispute(self, dispute_id: str) -> DisputeState:
        dispute = SimulatedDispute.objects.filter(pk=dispute_id).first()
        if dispute is None:
            raise GatewayError(f"No such dispute: {dispute_id}")
        return dispute.state

    def create_express_account(self, *, email: str, seller_id: int, idempotency_key: str) -> str:
        account, _ = SimulatedAccount.objects.get_or_create(
            idempotency_key=idempotency_key,
            defaults={
                "seller_id": seller_id,
                "email": email,
                "requirements_due": list(NEW_ACCOUNT_REQUIREMENTS),
            },
        )
        return account.id

    def create_account_link(self, *, account_id: str, refresh_url: str, return_url: str) -> str:
        from django.core import signing

        _account(account_id)
        # The return/refresh targets travel signed, so the page cannot be made to
        # redirect anywhere else (an open redirect).
        token = signing.dumps(
            {"return_url": return_url, "refresh_url": refresh_url}, salt=LINK_SALT
        )
        url = reverse("payments:simulator-onboarding", kwargs={"account_id": account_id})
        return f"{url}?link={token}"

    def retrieve_account(self, account_id: str) -> AccountState:
        return _account(account_id).state

    def create_login_link(self, account_id: str) -> str:
        account = _account(account_id)
        if not account.details_submitted:
            raise GatewayError("Finish onboarding before opening the Express dashboard.")
        return reverse("payments:simulator-dashboard", kwargs={"account_id": account_id})

    def construct_event(self, *, payload: bytes, signature: str, secret: str) -> dict:
        return event_verify(payload=payload, signature=signature, secret=secret)


def _create_once(model, *, prefix: str, idempotency_key: str, **fields):
    """Stripe's idempotency for a simulated object: the id is derived from the key, and
    a repeated (or concurrent) key returns the first object. (object, created)."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
    try:
        with transaction.atomic():
            return model.objects.create(
                id=f"{prefix}_{digest}", idempotency_key=idempotency_key, **fields
            ), True
    except IntegrityError:
        return model.objects.get(idempotency_key=idempotency_key), False


def _account(account_id: str) -> SimulatedAccount:
    account = SimulatedAccount.objects.filter(pk=account_id).first()
    if account is None or account.deauthorized:
        raise AccountUnavailable(f"No such account: {account_id}")
    return account


LINK_SALT = "payments.simulator.account-link"
LINK_MAX_AGE_SECONDS = 60 * 60


# ------------------------------------------------------------------------------
# Stripe-shaped objects and events
# ------------------------------------------------------------------------------
def _ts(value) -> int:
    return int(value.timestamp())


def session_object(session: SimulatedCheckoutSession) -> dict:
    """A `checkout.session` object as Stripe serialises it (the fields we and most
    integrations read)."""
    return {
        "id": session.id,
        "object": "checkout.session",
        "amount_subtotal": session.amount_total,
        "amount_total": session.amount_total,
        "cancel_url": session.cancel_url,
        "client_reference_id": str(session.order_id),
        "created": _ts(session.created_at),
        "currency": session.currency,
        "collected_information": (
            {
                "business_name": None,
                "individual_name": None,
                "shipping_details": {
                    "name": session.shipping_details.get("name"),
                    "address": session.shipping_details.get("address"),
                },
            }
            if session.shipping_details
            else None
        ),
        "customer_details": {
            "email": session.email,
            "phone": (session.shipping_details or {}).get("phone") or None,
        },
        "customer_email": session.email,
        "expires_at": _ts(session.expires_at),
        "livemode": False,
        "metadata": order_metadata(session.order_id),
        "mode": "payment",
        "payment_intent": session.payment_intent or None,
        "payment_status": session.payment_status,
        "shipping_address_collection": (
            {"allowed_countries": list(session.shipping_countries)}
            if session.shipping_countries
            else None
        ),
        "status": session.status,
        "success_url": session.success_url,
        "url": None if session.status != session.Status.OPEN else checkout_path(session.id),
    }


def payment_intent_object(session: SimulatedCheckoutSession, *, decline_message: str) -> dict:
    return {
        "id": session.payment_intent,
        "object": "payment_intent",
        "amount": session.amount_total,
        "currency": session.currency,
        "created": int(time.time()),
        "last_payment_error": {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "generic_decline",
            "message": decline_message,
        },
        "latest_charge": None,
        "livemode": False,
        "metadata": order_metadata(session.order_id),
        "status": "requires_payment_method",
        "transfer_group": order_transfer_group(session.order_id),
    }


def account_object(account: SimulatedAccount) -> dict:
    return {
        "id": account.id,
        "object": "account",
        "charges_enabled": account.charges_enabled,
        "controller": {**express_controller(), "type": "application"},
        "created": _ts(account.created_at),
        "details_submitted": account.details_submitted,
        "email": account.email,
        "metadata": {"seller_id": str(account.seller_id)},
        "payouts_enabled": account.payouts_enabled,
        "requirements": {
            "currently_due": list(account.requirements_due),
            "eventually_due": list(account.requirements_due),
            "past_due": [],
            "disabled_reason": None if account.charges_enabled else "requirements.past_due",
        },
        "type": "express",
    }


def event_build(
    event_type: str,
    obj: dict,
    *,
    account: str | None = None,
    previous_attributes: dict | None = None,
) -> dict:
    """A v1 snapshot event, shaped like Stripe's."""
    data: dict = {"object": obj}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    event = {
        "id": _new_id("evt_sim"),
        "object": "event",
        "api_version": STRIPE_API_VERSION,
        "created": int(time.time()),
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }
    if account:
        event["account"] = account
    return event


def event_sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header Stripe would send: `t=<ts>,v1=<hex hmac-sha256 of
    "<ts>.<payload>" keyed with the endpoint secret>`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class SimulatorDeliveryError(Exception):
    """Our own webhook view refused a simulated event (a bug, not a buyer's problem)."""


def event_deliver(event: dict, *, endpoint: str) -> None:
    """Sign `event` and hand it to the platform or Connect webhook view, as Stripe would."""
    from payments import webhooks

    view, secret = {
        "platform": (webhooks.stripe_webhook_platform, settings.STRIPE_WEBHOOK_SECRET),
        "connect": (webhooks.stripe_webhook_connect, settings.STRIPE_CONNECT_WEBHOOK_SECRET),
    }[endpoint]
    payload = json.dumps(event, separators=(",", ":")).encode()
    request = WSGIRequest(
        {
            "REQUEST_METHOD": "POST",
            "SCRIPT_NAME": "",
            "PATH_INFO": reverse(f"payments:webhook-{endpoint}"),
            "QUERY_STRING": "",
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/json; charset=utf-8",
            "CONTENT_LENGTH": str(len(payload)),
            "HTTP_STRIPE_SIGNATURE": event_sign(payload, secret),
            "HTTP_USER_AGENT": "Stripe/1.0 (+https://stripe.com/docs/webhooks) simulator",
            "wsgi.input": io.BytesIO(payload),
            "wsgi.url_scheme": "http",
        }
    )
    response = view(request)
    if response.status_code != 200:
        raise SimulatorDeliveryError(
            f"{event['type']} {event['id']} was refused with {response.status_code}"
        )
    logger.info("simulator delivered %s %s to %s", event["type"], event["id"], endpoint)


# ------------------------------------------------------------------------------
# What the buyer and seller do on the simulator pages
# ------------------------------------------------------------------------------
def checkout_path(session_id: str) -> str:
    return reverse("payments:simulator-checkout", kwargs={"session_id": session_id})


def redirect_target(url: str, session_id: str) -> str:
    """Stripe fills `{CHECKOUT_SESSION_ID}` in success/cancel URLs; so do we."""
    return url.replace("{CHECKOUT_SESSION_ID}", session_id)


def _expire_locked(session: SimulatedCheckoutSession) -> dict:
    session.status = session.Status.EXPIRED
    session.save(update_fields=["status", "updated_at"])
    return event_build("checkout.session.expired", session_object(session))


SHIPPING_FIELD_LIMITS = {
    "name": 200,
    "line1": 200,
    "line2": 200,
    "city": 100,
    "state": 100,
    "postal_code": 20,
    "phone": 40,
}
SHIPPING_REQUIRED = ("name", "line1", "city", "postal_code")


def shipping_details_build(data: dict, *, allowed_countries: list[str]) -> dict:
    """The buyer's typed address as Stripe's `shipping_details` ({name, phone, address}),
    checked as Stripe Checkout checks it: name, line 1, city and postal code required,
    lengths bounded, the country one of `allowed_countries`. Raises GatewayError."""
    values = {k: str(data.get(k) or "").strip() for k in SHIPPING_FIELD_LIMITS}
    missing = [k for k in SHIPPING_REQUIRED if not values[k]]
    if missing:
        raise GatewayError("Fill in the shipping address: " + ", ".join(missing) + ".")
    too_long = [k for k, limit in SHIPPING_FIELD_LIMITS.items() if len(values[k]) > limit]
    if too_long:
        raise GatewayError("Too long: " + ", ".join(too_long) + ".")
    country = str(data.get("country") or "").strip().upper()
    if country not in allowed_countries:
        raise GatewayError("This checkout ships only to " + ", ".join(allowed_countries) + ".")
    return {
        "name": values["name"],
        "phone": values["phone"],
        "address": {
            "line1": values["line1"],
            "line2": values["line2"] or None,
            "city": values["city"],
            "state": values["state"] or None,
            "postal_code": values["postal_code"],
            "country": country,
        },
    }


def simulator_session_pay(
    *, session_id: str, shipping: dict | None = None
) -> SimulatedCheckoutSession:
    """Pay an open session with the "test card": complete + paid, then deliver
    `checkout.session.completed`. A session created with shipping address collection
    needs `shipping` (the typed fields, checked by `shipping_details_build`), as Stripe's
    page does. An already paid session delivers nothing again; an overdue one expires
    instead (as Stripe would have expired it)."""
    with transaction.atomic():
        session = SimulatedCheckoutSession.objects.select_for_update().get(pk=session_id)
        if session.status != session.Status.OPEN:
            return session
        if session.expires_at <= timezone.now():
            event = _expire_locked(session)
        else:
            if session.shipping_countries:
                session.shipping_details = shipping_details_build(
                    shipping or {}, allowed_countries=list(session.shipping_countries)
                )
            session.status = session.Status.COMPLETE
            session.payment_status = "paid"
            session.payment_intent = session.payment_intent or _new_id("pi_sim")
            session.charge = _new_id("ch_sim")
            session.save()
            event = event_build("checkout.session.completed", session_object(session))
    # After commit: the processing re-fetches the session and must see it complete.
    event_deliver(event, endpoint="platform")
    return session


def simulator_session_pay_undelivered(*, session_id: str) -> dict:
    """Pay an open session without shipping with the "test card", as
    `simulator_session_pay` does, and return its `checkout.session.completed` event
    instead of delivering it: for benchmarks and drills that deliver events themselves
    (over HTTP, repeated, shuffled). Raises GatewayError for a session that is not open."""
    with transaction.atomic():
        session = SimulatedCheckoutSession.objects.select_for_update().get(pk=session_id)
        if session.status != session.Status.OPEN or session.shipping_countries:
            raise GatewayError("Only an open session without shipping can be paid here.")
        session.status = session.Status.COMPLETE
        session.payment_status = "paid"
        session.payment_intent = session.payment_intent or _new_id("pi_sim")
        session.charge = _new_id("ch_sim")
        session.save()
        return event_build("checkout.session.completed", session_object(session))


DECLINE_MESSAGE = "Your card was declined. (Simulated decline: no real card was used.)"


def simulator_session_decline(*, session_id: str) -> SimulatedCheckoutSession:
    """A declined card: the session stays open for another try, as on Stripe, and a
    `payment_intent.payment_failed` event goes out."""
    with transaction.atomic():
        session = SimulatedCheckoutSession.objects.select_for_update().get(pk=session_id)
        if session.status != session.Status.OPEN:
            return session
        if not session.payment_intent:
            session.payment_intent = _new_id("pi_sim")
            session.save(update_fields=["payment_intent", "updated_at"])
        event = event_build(
            "payment_intent.payment_failed",
            payment_intent_object(session, decline_message=DECLINE_MESSAGE),
        )
    event_deliver(event, endpoint="platform")
    return session


def simulator_session_expire(*, session_id: str) -> SimulatedCheckoutSession:
    """Let an open session expire now: `checkout.session.expired`."""
    with transaction.atomic():
        session = SimulatedCheckoutSession.objects.select_for_update().get(pk=session_id)
        if session.status != session.Status.OPEN:
            return session
        event = _expire_locked(session)
    event_deliver(event, endpoint="platform")
    return session


def simulator_sessions_expire_due() -> int:
    """Expire every open session past its `expires_at` (Stripe does this on its own
    schedule; locally a periodic task or the page itself does). Returns how many."""
    due = SimulatedCheckoutSession.objects.filter(
        status=SimulatedCheckoutSession.Status.OPEN, expires_at__lte=timezone.now()
    ).values_list("pk", flat=True)
    count = 0
    for session_id in list(due):
        if simulator_session_expire(session_id=session_id).status == "expired":
            count += 1
    return count


def simulator_account_complete_onboarding(*, account_id: str) -> SimulatedAccount:
    """The seller "submits" onboarding: details in, charges and payouts on, nothing due.
    Delivers `account.updated` to the Connect endpoint, as Stripe does."""
    with transaction.atomic():
        account = SimulatedAccount.objects.select_for_update().get(pk=account_id)
        previous = {
            "charges_enabled": account.charges_enabled,
            "payouts_enabled": account.payouts_enabled,
            "details_submitted": account.details_submitted,
            "requirements": {"currently_due": list(account.requirements_due)},
        }
        account.charges_enabled = True
        account.payouts_enabled = True
        account.details_submitted = True
        account.requirements_due = []
        account.save()
        event = event_build(
            "account.updated",
            account_object(account),
            account=account.id,
            previous_attributes=previous,
        )
    event_deliver(event, endpoint="connect")
    return account


def simulator_account_deauthorize(*, account_id: str) -> SimulatedAccount:
    """The seller disconnects the platform from their Stripe account: Stripe stops
    returning the account and sends `account.application.deauthorized` to Connect."""
    with transaction.atomic():
        account = SimulatedAccount.objects.select_for_update().get(pk=account_id)
        account.deauthorized = True
        account.save(update_fields=["deauthorized", "updated_at"])
        event = event_build(
            "account.application.deauthorized",
            {"id": "ca_sim_platform", "object": "application", "name": "Home Craft 3D"},
            account=account.id,
        )
    event_deliver(event, endpoint="connect")
    return account


# ------------------------------------------------------------------------------
# Money going back: refunds made in the dashboard, disputes (staff-only test page)
# ------------------------------------------------------------------------------
def charge_object(session: SimulatedCheckoutSession) -> dict:
    refunds = list(SimulatedRefund.objects.filter(payment_intent=session.payment_intent))
    refunded = sum(r.amount for r in refunds)
    return {
        "id": session.charge,
        "object": "charge",
        "amount": session.amount_total,
        "amount_captured": session.amount_total,
        "amount_refunded": refunded,
        "currency": session.currency,
        "livemode": False,
        "metadata": order_metadata(session.order_id),
        "paid": True,
        "payment_intent": session.payment_intent,
        "refunded": refunded >= session.amount_total,
        "status": "succeeded",
        "transfer_group": order_transfer_group(session.order_id),
    }


def _deliver_charge_refunded_after_commit(session: SimulatedCheckoutSession) -> None:
    session_id = session.pk

    def deliver() -> None:
        fresh = SimulatedCheckoutSession.objects.get(pk=session_id)
        event_deliver(event_build("charge.refunded", charge_object(fresh)), endpoint="platform")

    transaction.on_commit(deliver, robust=True)


def _paid_session(session_id: str) -> SimulatedCheckoutSession:
    session = SimulatedCheckoutSession.objects.get(pk=session_id)
    if session.payment_status != "paid":
        raise GatewayError("Only a paid checkout can be refunded or disputed.")
    return session


def simulator_refund_outside(
    *, session_id: str, amount_cents: int | None = None
) -> SimulatedRefund:
    """A refund made in the Stripe dashboard (or by Stripe's fraud tools): no metadata of
    ours; `charge.refunded` goes out as Stripe would send it."""
    session = _paid_session(session_id)
    refunded = sum(
        SimulatedRefund.objects.filter(payment_intent=session.payment_intent).values_list(
            "amount", flat=True
        )
    )
    amount = session.amount_total - refunded if amount_cents is None else amount_cents
    if amount <= 0 or refunded + amount > session.amount_total:
        raise GatewayError("The refund exceeds what remains of the charge.")
    refund = SimulatedRefund.objects.create(
        id=_new_id("re_sim"),
        idempotency_key=_new_id("dashboard"),
        payment_intent=session.payment_intent,
        amount=amount,
    )
    event_deliver(event_build("charge.refunded", charge_object(session)), endpoint="platform")
    return refund


def dispute_object(dispute: SimulatedDispute) -> dict:
    return {
        "id": dispute.id,
        "object": "dispute",
        "amount": dispute.amount,
        "charge": dispute.charge,
        "currency": dispute.currency,
        "evidence_details": {"due_by": int(dispute.evidence_due_by.timestamp())},
        "livemode": False,
        "payment_intent": dispute.payment_intent,
        "reason": dispute.reason,
        "status": dispute.status,
    }


def simulator_dispute_open(
    *, session_id: str, amount_cents: int | None = None, reason: str = "fraudulent"
) -> SimulatedDispute:
    """The buyer's bank opens a dispute: `charge.dispute.created` then
    `charge.dispute.funds_withdrawn`, as Stripe sends them."""
    session = _paid_session(session_id)
    refunded = sum(
        SimulatedRefund.objects.filter(payment_intent=session.payment_intent).values_list(
            "amount", flat=True
        )
    )
    amount = session.amount_total - refunded if amount_cents is None else amount_cents
    if amount <= 0 or amount > session.amount_total - refunded:
        raise GatewayError("A dispute cannot exceed what remains of the charge.")
    if SimulatedDispute.objects.filter(payment_intent=session.payment_intent).exists():
        raise GatewayError("This charge is already disputed.")
    dispute = SimulatedDispute.objects.create(
        id=_new_id("dp_sim"),
        payment_intent=session.payment_intent,
        charge=session.charge,
        amount=amount,
        currency=session.currency,
        reason=reason,
        evidence_due_by=timezone.now() + timedelta(days=7),
    )
    for kind in ("charge.dispute.created", "charge.dispute.funds_withdrawn"):
        event_deliver(event_build(kind, dispute_object(dispute)), endpoint="platform")
    return dispute


def simulator_dispute_close(*, dispute_id: str, won: bool) -> SimulatedDispute:
    """The bank decides: won (`charge.dispute.funds_reinstated` + closed) or lost."""
    dispute = SimulatedDispute.objects.get(pk=dispute_id)
    if dispute.status in ("won", "lost"):
        raise GatewayError("This dispute is already closed.")
    dispute.status = "won" if won else "lost"
    dispute.save(update_fields=["status"])
    kinds = ["charge.dispute.closed"]
    if won:
        kinds.insert(0, "charge.dispute.funds_reinstated")
    for kind in kinds:
        event_deliver(event_build(kind, dispute_object(dispute)), endpoint="platform")
    return dispute


def simulator_seller_balance_set_short(*, order_id: int, seller_id: int, short: bool) -> bool:
    """Test mode: a seller of this order has a short Stripe balance (their transfer
    reversals are refused) or a fine one. False when no such seller account exists."""
    from orders.models import OrderItem

    sellers = OrderItem.objects.filter(order_id=order_id).values("seller_id")
    with transaction.atomic():
        return bool(
            SimulatedAccount.objects.select_for_update()
            .filter(seller_id=seller_id, seller_id__in=sellers)
            .update(reversals_refused=short)
        )
