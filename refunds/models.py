from django.conf import settings
from django.db import models


class RefundRequest(models.Model):
    """A buyer's (or seller's, or staff's) refund of one order line, and its decision.

    REQUESTED → APPROVED (full or partial) / DECLINED; APPROVED → REFUNDED when Stripe
    confirms, or FAILED (retryable by staff); CANCELED by the buyer before a decision.
    Transitions only in `refunds.services`, under a row lock, each writing an OrderEvent.
    The money (Stripe refund, ledger rows, reversals) is payments' `PaymentRefund`.
    """

    class Reason(models.TextChoices):
        NOT_RECEIVED = "NOT_RECEIVED", "It never arrived"
        DAMAGED = "DAMAGED", "It arrived damaged"
        NOT_AS_DESCRIBED = "NOT_AS_DESCRIBED", "It is not as described"
        CHANGED_MIND = "CHANGED_MIND", "I changed my mind"
        OTHER = "OTHER", "Something else"

    class Status(models.TextChoices):
        REQUESTED = "REQUESTED", "Requested"
        APPROVED = "APPROVED", "Approved"
        DECLINED = "DECLINED", "Declined"
        REFUNDED = "REFUNDED", "Refunded"
        FAILED = "FAILED", "Failed"
        CANCELED = "CANCELED", "Canceled"

    class Initiator(models.TextChoices):
        BUYER = "BUYER", "Buyer"
        SELLER = "SELLER", "Seller"
        STAFF = "STAFF", "Staff"

    TRANSITIONS: dict[str, tuple[str, ...]] = {
        Status.REQUESTED: (Status.APPROVED, Status.DECLINED, Status.CANCELED),
        Status.APPROVED: (Status.REFUNDED, Status.FAILED),
        Status.FAILED: (Status.APPROVED,),
        Status.DECLINED: (),
        Status.REFUNDED: (),
        Status.CANCELED: (),
    }

    order_item = models.OneToOneField(
        "orders.OrderItem", on_delete=models.PROTECT, related_name="refund_request"
    )
    initiated_by = models.CharField(max_length=10, choices=Initiator.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="refund_requests",
        help_text="Empty for a guest holding the order's link.",
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    buyer_note = models.TextField(blank=True, max_length=2000)
    currency = models.CharField(max_length=3)
    requested_amount_cents = models.BigIntegerField()
    approved_amount_cents = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="refund_decisions",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, max_length=2000)
    # The Stripe side: payments' PaymentRefund (its key is `refund-request-<id>`).
    payment_refund = models.OneToOneField(
        "payments.PaymentRefund",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refund_request",
    )
    stripe_refund_id = models.CharField(max_length=255, blank=True)
    last_error = models.TextField(blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(requested_amount_cents__gt=0), name="refund_requested_gt_0"
            ),
            models.CheckConstraint(
                condition=models.Q(approved_amount_cents__isnull=True)
                | (
                    models.Q(approved_amount_cents__gt=0)
                    & models.Q(approved_amount_cents__lte=models.F("requested_amount_cents"))
                ),
                name="refund_approved_within_requested",
            ),
        ]

    def __str__(self) -> str:
        return f"Refund request {self.pk} ({self.status})"

    @property
    def key(self) -> str:
        """The idempotency key of its money (PaymentRefund, ledger rows)."""
        return f"refund-request-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.REQUESTED, self.Status.APPROVED, self.Status.FAILED)
