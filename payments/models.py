from django.conf import settings
from django.db import models


class SellerStripeAccount(models.Model):
    """A seller's Stripe Connect Express account, mirrored from Stripe.

    Written only by payments services (onboarding, `account.updated`, sync). Readiness is
    read through `payments.selectors` so catalog and checkout share one rule.
    """

    seller = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="stripe_account"
    )
    stripe_account_id = models.CharField(max_length=255, unique=True)
    charges_enabled = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    details_submitted = models.BooleanField(default=False)
    requirements_currently_due = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.stripe_account_id} ({'ready' if self.is_ready else 'not ready'})"

    @property
    def is_ready(self) -> bool:
        return self.details_submitted and self.charges_enabled and self.payouts_enabled


class StripeEvent(models.Model):
    """A webhook delivery, stored raw before anything is trusted or processed.

    Unique on Stripe's event id, so a repeated delivery is a no-op. A Celery task
    processes it under a row lock; failures stay visible with their error.
    """

    class Endpoint(models.TextChoices):
        PLATFORM = "platform", "Platform"
        CONNECT = "connect", "Connect"

    class Status(models.TextChoices):
        RECEIVED = "RECEIVED", "Received"
        PROCESSED = "PROCESSED", "Processed"
        IGNORED = "IGNORED", "Stored only"
        FAILED = "FAILED", "Failed"

    stripe_event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    endpoint = models.CharField(max_length=10, choices=Endpoint.choices)
    account = models.CharField(max_length=255, blank=True, help_text="Connect account id.")
    livemode = models.BooleanField(default=False)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_event_id}"


class SellerTransfer(models.Model):
    """Our record of the one Stripe Transfer per (order, seller)."""

    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        CREATED = "CREATED", "Created"
        FAILED = "FAILED", "Failed"

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="transfers")
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="transfers"
    )
    amount_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    destination_account = models.CharField(max_length=255)
    stripe_transfer_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["order", "seller"], name="one_transfer_per_order_seller"
            ),
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="transfer_amount_gt_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.idempotency_key} ({self.status})"


class SellerBalanceEntry(models.Model):
    """One append-only row of a seller's ledger (docs/LEDGER.md says which event writes
    which row). Signed cents; the balance owed is the sum. Never updated or deleted:
    corrections are new rows. Written only by `payments.ledger`."""

    class Reason(models.TextChoices):
        SALE = "SALE", "Sale"
        TRANSFER = "TRANSFER", "Transfer to Stripe"
        REFUND = "REFUND", "Refund"
        TRANSFER_REVERSAL = "TRANSFER_REVERSAL", "Transfer reversal"
        CHARGEBACK = "CHARGEBACK", "Chargeback"
        CHARGEBACK_REVERSAL = "CHARGEBACK_REVERSAL", "Chargeback reversal"
        ADJUSTMENT = "ADJUSTMENT", "Adjustment"

    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="balance_entries"
    )
    amount_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    order = models.ForeignKey(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="balance_entries",
    )
    order_item = models.ForeignKey(
        "orders.OrderItem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="balance_entries",
    )
    stripe_object_id = models.CharField(max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    description = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "seller balance entries"
        indexes = [models.Index(fields=["seller", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(amount_cents=0), name="balance_entry_not_zero"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reason} {self.amount_cents} {self.currency} ({self.seller_id})"


# The local payment simulator keeps its state in these tables (payments/simulator.py).
from payments.simulator import SimulatedAccount, SimulatedCheckoutSession  # noqa: E402, F401
