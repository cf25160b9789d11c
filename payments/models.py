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
    # Set when the seller disconnected the platform (`account.application.deauthorized`)
    # or Stripe no longer returns the account: never ready again until they reconnect.
    disconnected_at = models.DateTimeField(null=True, blank=True)
    disconnect_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.stripe_account_id} ({'ready' if self.is_ready else 'not ready'})"

    @property
    def is_ready(self) -> bool:
        """Mirror of `payments.selectors.READY` for one loaded row."""
        return (
            self.disconnected_at is None
            and self.details_submitted
            and self.charges_enabled
            and self.payouts_enabled
        )


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
    """Our record of the one Stripe Transfer per (order, seller).

    PENDING: not sent yet, or a Stripe outage; retried at `next_attempt_at` with backoff.
    CREATED: Stripe accepted it; `amount_cents` is what Stripe says it moved.
    FAILED: needs a person or an event (refused, seller not ready, retries exhausted);
    `last_error` says why. A seller becoming ready puts their FAILED transfers back to
    PENDING. CANCELED: nothing was owed any more when it was due (e.g. refunded first).
    """

    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        CREATED = "CREATED", "Created"
        FAILED = "FAILED", "Failed"
        CANCELED = "CANCELED", "Nothing owed"

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="transfers")
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="transfers"
    )
    # 1 for the sale's transfer; 2, 3 … for top-ups (money owed again on the order, e.g.
    # after a dispute was won and its reversal had already taken the seller's share).
    sequence = models.PositiveSmallIntegerField(default=1)
    amount_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    destination_account = models.CharField(max_length=255)
    stripe_transfer_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    # Our stable key (also the TRANSFER ledger row's); each attempt sends Stripe
    # `stripe_key("<idempotency_key>-attempt-<n>")` (docs/LEDGER.md, Stripe keys).
    idempotency_key = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    last_error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Outages in a row since the last success, refusal or reset: drives the backoff.
    consecutive_failures = models.PositiveIntegerField(default=0)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "seller", "sequence"], name="one_transfer_per_order_seller_seq"
            ),
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="transfer_amount_gt_0"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="CREATED") | models.Q(stripe_transfer_id__isnull=False),
                name="created_transfer_has_stripe_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.idempotency_key} ({self.status})"


class AppendOnlyError(Exception):
    """A ledger row was asked to change or disappear: corrections are new rows."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only (no UPDATE).")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only (no DELETE).")

    # bulk_update goes through update(); bulk_create is an insert and stays allowed.


class AppendOnlyModel(models.Model):
    """Insert-only rows. The model refuses updates and deletes on every database; on
    PostgreSQL a trigger also refuses them (payments migration 0005), so raw SQL and
    other clients cannot edit the ledger either."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only (no UPDATE).")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only (no DELETE).")


class SellerBalanceEntry(AppendOnlyModel):
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


class PlatformLedgerEntry(AppendOnlyModel):
    """One append-only row of the platform's own side of an order (docs/LEDGER.md):
    the marketplace fee it earned, Stripe's processing fee it paid, and refunds it
    funded. Σ per order = the marketplace's margin on that order. Written only by
    `payments.ledger.platform_post`."""

    class Reason(models.TextChoices):
        FEE = "FEE", "Marketplace fee earned"
        PROCESSING_FEE = "PROCESSING_FEE", "Stripe processing fee"
        REFUND = "REFUND", "Refund funded by the platform"
        CHARGEBACK = "CHARGEBACK", "Chargeback (platform's part)"
        CHARGEBACK_REVERSAL = "CHARGEBACK_REVERSAL", "Chargeback won (platform's part)"
        DISPUTE_FEE = "DISPUTE_FEE", "Stripe dispute fee"
        ADJUSTMENT = "ADJUSTMENT", "Adjustment"

    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="platform_entries"
    )
    amount_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    stripe_object_id = models.CharField(max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    description = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "platform ledger entries"
        indexes = [models.Index(fields=["order", "reason"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(amount_cents=0), name="platform_entry_not_zero"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reason} {self.amount_cents} {self.currency} (order {self.order_id})"


class PaymentRefund(models.Model):
    """A refund of (part of) an order's charge that we send to Stripe, and its outcome.

    `LATE_PAYMENT`: a payment confirmed for an order that could no longer be honoured
    (expired, cancelled, stock gone) is given back in full, never kept. PENDING refunds
    are retried with backoff (same rules as transfers); FAILED needs a person and is
    reported by `reconcile_ledger` until it is settled.
    """

    class Reason(models.TextChoices):
        LATE_PAYMENT = "LATE_PAYMENT", "Payment for an order that could not be honoured"
        LINE = "LINE", "Refund of an order line"
        OUTSIDE = "OUTSIDE", "Made outside the marketplace"
        NO_ADDRESS = "NO_ADDRESS", "Printed items paid without a shipping address"

    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        SUCCEEDED = "SUCCEEDED", "Refunded"
        FAILED = "FAILED", "Failed"

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="refunds")
    # A line refund (LINE, or an OUTSIDE refund allocated to a line).
    order_item = models.ForeignKey(
        "orders.OrderItem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payment_refunds",
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    amount_cents = models.BigIntegerField()
    # An OUTSIDE refund of part of a charge: staff must say which lines it was for;
    # reconcile_ledger reports it until they do.
    needs_allocation = models.BooleanField(default=False)
    # {order item id: cents} this refund gives back per line (LINE: its one line; an
    # OUTSIDE refund of the whole rest: every line's rest; a partial one: staff say).
    allocations = models.JSONField(default=dict, blank=True)
    # Set once its ledger rows are posted (docs/LEDGER.md), under the row lock, with what
    # each seller and the platform funded: {"sellers": {id: cents}, "platform": cents}.
    posted_at = models.DateTimeField(null=True, blank=True)
    shares = models.JSONField(default=dict, blank=True)
    currency = models.CharField(max_length=3)
    payment_intent_id = models.CharField(max_length=255)
    stripe_refund_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    last_error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    consecutive_failures = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    refunded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="payment_refund_amount_gt_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.idempotency_key} ({self.status})"


class SellerTransferReversal(models.Model):
    """Taking (part of) a seller's transfer back, for a refund or a dispute of their
    lines. CREATED posts TRANSFER_REVERSAL; FAILED (e.g. their Stripe balance is short)
    leaves their ledger negative on that order, settled from their next transfers."""

    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        CREATED = "CREATED", "Reversed"
        FAILED = "FAILED", "Failed"

    transfer = models.ForeignKey(SellerTransfer, on_delete=models.PROTECT, related_name="reversals")
    payment_refund = models.ForeignKey(
        PaymentRefund, null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    dispute = models.ForeignKey(
        "payments.Dispute",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversals",
    )
    amount_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    stripe_reversal_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    # Also the TRANSFER_REVERSAL ledger row's key.
    idempotency_key = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    last_error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="reversal_amount_gt_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.idempotency_key} ({self.status})"


class Dispute(models.Model):
    """A chargeback on an order's charge, mirrored from Stripe's `charge.dispute.*`."""

    class Status(models.TextChoices):
        WARNING_NEEDS_RESPONSE = "warning_needs_response", "Inquiry: needs a response"
        WARNING_UNDER_REVIEW = "warning_under_review", "Inquiry: under review"
        WARNING_CLOSED = "warning_closed", "Inquiry closed"
        NEEDS_RESPONSE = "needs_response", "Needs a response"
        UNDER_REVIEW = "under_review", "Under review"
        WON = "won", "Won"
        LOST = "lost", "Lost"
        PREVENTED = "prevented", "Prevented"

    OPEN = (
        Status.WARNING_NEEDS_RESPONSE,
        Status.WARNING_UNDER_REVIEW,
        Status.NEEDS_RESPONSE,
        Status.UNDER_REVIEW,
    )

    stripe_dispute_id = models.CharField(max_length=255, unique=True)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="disputes")
    charge_id = models.CharField(max_length=255)
    amount_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=30, choices=Status.choices)
    evidence_due_by = models.DateTimeField(null=True, blank=True)
    # Set when the sellers were debited (funds withdrawn) / credited back (won), with
    # what each seller and the platform bore: {"sellers": {id: cents}, "platform": cents}.
    debited_at = models.DateTimeField(null=True, blank=True)
    shares = models.JSONField(default=dict, blank=True)
    reinstated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.stripe_dispute_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


# The local payment simulator keeps its state in these tables (payments/simulator.py).
from payments.simulator import (  # noqa: E402, F401
    SimulatedAccount,
    SimulatedCheckoutSession,
    SimulatedDispute,
    SimulatedRefund,
    SimulatedTransfer,
    SimulatedTransferReversal,
)
