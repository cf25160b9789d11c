import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse


def new_access_token() -> str:
    """The guest's key to their order page and downloads (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def order_transfer_group(order_id: int) -> str:
    """The Stripe `transfer_group` of an order's payment and of its sellers' transfers."""
    return f"order-{order_id}"


class Order(models.Model):
    """One checkout: a buyer (or a guest's email) paying once for a multi-seller cart.

    Every money field is a snapshot taken when the order was created; nothing here is
    recomputed from today's prices or fee. Status moves only through the transition
    services in `orders.services`, which check `ALLOWED_TRANSITIONS` under a row lock.
    """

    class Status(models.TextChoices):
        PENDING = "PENDING", "Awaiting payment"
        PAID = "PAID", "Paid"
        PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED", "Partly refunded"
        REFUNDED = "REFUNDED", "Refunded"
        FAILED = "FAILED", "Payment failed"
        EXPIRED = "EXPIRED", "Checkout expired"
        CANCELLED = "CANCELLED", "Cancelled"

    # A payment can still be confirmed after we gave up on an order (a delayed bank
    # debit, a webhook replayed late, a session paid as our sweep expired it): such an
    # order becomes PAID again only through `order_payment_succeeded`, which re-reserves
    # its stock first; if it cannot, payments refunds the charge (docs/LEDGER.md).
    # Refunds move a paid order to PARTIALLY_REFUNDED / REFUNDED; such an order still was
    # paid: what its unrefunded lines grant (downloads, payouts, units sold) stays
    # (`WAS_PAID` is the set every "was this order paid?" question asks about).
    ALLOWED_TRANSITIONS: dict[str, tuple[str, ...]] = {
        Status.PENDING: (Status.PAID, Status.FAILED, Status.EXPIRED, Status.CANCELLED),
        Status.FAILED: (Status.PAID,),
        Status.PAID: (Status.PARTIALLY_REFUNDED, Status.REFUNDED),
        Status.PARTIALLY_REFUNDED: (Status.REFUNDED,),
        Status.REFUNDED: (),
        Status.EXPIRED: (Status.PAID,),
        Status.CANCELLED: (Status.PAID,),
    }
    WAS_PAID = (Status.PAID, Status.PARTIALLY_REFUNDED, Status.REFUNDED)

    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        help_text="Empty for a guest order until an account verifies the same email.",
    )
    email = models.EmailField()
    # The client IP that started the checkout (marketplace.http.client_ip): caps how many
    # unpaid checkouts, each holding stock, one address may keep open (CHECKOUT_OPEN_MAX).
    checkout_ip = models.GenericIPAddressField(null=True, blank=True, editable=False)
    access_token = models.CharField(max_length=64, unique=True, default=new_access_token)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    currency = models.CharField(max_length=3)
    fee_bps = models.PositiveIntegerField()
    subtotal_cents = models.BigIntegerField()
    shipping_cents = models.BigIntegerField(default=0)
    tax_cents = models.BigIntegerField(default=0)
    total_cents = models.BigIntegerField()
    stripe_checkout_session_id = models.CharField(
        max_length=255, unique=True, null=True, blank=True
    )
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True)
    stripe_charge_id = models.CharField(max_length=255, blank=True)
    # What Stripe says it charged (the session's amount_total and currency), stored when
    # the payment is confirmed, whatever the order's state: reconcile_ledger compares it
    # with `total_cents`, and a charge on an order that is not PAID must be refunded.
    amount_charged_cents = models.BigIntegerField(null=True, blank=True)
    charged_currency = models.CharField(max_length=3, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # Set when every effect of the payment is done (sellers' SALE rows and transfers
    # started, platform fee posted, emails sent); the follow-up sweeper looks for PAID
    # orders without it, so a lost task is completed later (payments.followups).
    followups_done_at = models.DateTimeField(null=True, blank=True)
    # Set once when reserved physical stock goes back (expiry/failure): makes it idempotent.
    stock_released_at = models.DateTimeField(null=True, blank=True)
    # The marketplace fee's fixed part per seller of this order (SiteConfig.fee_fixed_cents
    # at checkout), allocated to that seller's lines (docs/LEDGER.md).
    fee_fixed_cents = models.BigIntegerField(default=0)
    # Printed items: the country the buyer chose in the cart (shipping was priced for it
    # and Stripe collects an address only there), then the address Stripe collected,
    # copied once when the payment is confirmed and never changed (ship_country set).
    ship_to_country = models.CharField(max_length=2, blank=True)
    ship_name = models.CharField(max_length=200, blank=True)
    ship_line1 = models.CharField(max_length=200, blank=True)
    ship_line2 = models.CharField(max_length=200, blank=True)
    ship_city = models.CharField(max_length=100, blank=True)
    ship_region = models.CharField(max_length=100, blank=True)
    ship_postal_code = models.CharField(max_length=20, blank=True)
    ship_country = models.CharField(max_length=2, blank=True)
    ship_phone = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["buyer", "-created_at"]), models.Index(fields=["email"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_cents=F("subtotal_cents") + F("shipping_cents") + F("tax_cents")),
                name="order_total_is_sum",
            ),
            models.CheckConstraint(condition=Q(total_cents__gte=0), name="order_total_gte_0"),
        ]

    def __str__(self) -> str:
        return f"Order {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("orders:order-detail", kwargs={"pk": self.pk})

    @property
    def is_paid(self) -> bool:
        """Was paid (refunds included): the order's unrefunded lines still count."""
        return self.status in self.WAS_PAID

    @property
    def transfer_group(self) -> str:
        return order_transfer_group(self.pk)

    @property
    def has_shipping_address(self) -> bool:
        return bool(self.ship_country)

    @property
    def ship_address_lines(self) -> list[str]:
        """The snapshotted address as printed on a parcel (empty lines left out)."""
        from django_countries import countries

        city = " ".join(p for p in (self.ship_city, self.ship_region, self.ship_postal_code) if p)
        lines = [self.ship_name, self.ship_line1, self.ship_line2, city]
        if self.ship_country:
            lines.append(str(countries.name(self.ship_country)) or self.ship_country)
        return [line for line in lines if line]


class OrderItem(models.Model):
    """One line of an order, with the money snapshot the ledger is derived from."""

    class Fulfillment(models.TextChoices):
        NOT_APPLICABLE = "N/A", "Digital delivery"
        UNFULFILLED = "UNFULFILLED", "Preparing"
        SHIPPED = "SHIPPED", "Shipped"
        DELIVERED = "DELIVERED", "Delivered"

    FULFILLMENT_TRANSITIONS: dict[str, tuple[str, ...]] = {
        Fulfillment.UNFULFILLED: (Fulfillment.SHIPPED,),
        Fulfillment.SHIPPED: (Fulfillment.DELIVERED,),
        Fulfillment.DELIVERED: (),
        Fulfillment.NOT_APPLICABLE: (),
    }

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="items")
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, related_name="order_items"
    )
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sold_items"
    )
    kind = models.CharField(max_length=10)
    title = models.CharField(max_length=120)
    currency = models.CharField(max_length=3)
    unit_price_cents = models.BigIntegerField()
    quantity = models.PositiveIntegerField()
    subtotal_cents = models.BigIntegerField()
    fee_bps = models.PositiveIntegerField()
    marketplace_fee_cents = models.BigIntegerField()
    seller_net_cents = models.BigIntegerField()
    shipping_allocated_cents = models.BigIntegerField(default=0)
    tax_allocated_cents = models.BigIntegerField(default=0)
    fulfillment_status = models.CharField(max_length=12, choices=Fulfillment.choices)
    carrier = models.CharField(max_length=60, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Printed items: the listing's processing time when ordered (business days), for
    # the estimated dispatch date.
    processing_min_days = models.PositiveSmallIntegerField(null=True, blank=True)
    processing_max_days = models.PositiveSmallIntegerField(null=True, blank=True)
    # Set by downloads on the first counted download of a FILE line (refund policy).
    first_downloaded_at = models.DateTimeField(null=True, blank=True)
    # What Stripe has given back for this line (refunds confirmed), in cents.
    refunded_cents = models.BigIntegerField(default=0)
    # Set when the line is refunded in full (its item, not only its shipping): ends its
    # download rights and takes its units out of "sold".
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order_id", "seller_id", "id"]
        indexes = [models.Index(fields=["seller", "order"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(subtotal_cents=F("unit_price_cents") * F("quantity")),
                name="orderitem_subtotal_is_price_times_quantity",
            ),
            models.CheckConstraint(
                condition=Q(subtotal_cents=F("marketplace_fee_cents") + F("seller_net_cents")),
                name="orderitem_fee_plus_net_is_subtotal",
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orderitem_quantity_gte_1"),
            models.CheckConstraint(
                condition=Q(refunded_cents__gte=0)
                & Q(
                    refunded_cents__lte=F("subtotal_cents")
                    + F("shipping_allocated_cents")
                    + F("tax_allocated_cents")
                ),
                name="orderitem_refunded_within_line_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.title}"

    @property
    def total_cents(self) -> int:
        """What the buyer paid for this line: item, its shipping and its tax."""
        return self.subtotal_cents + self.shipping_allocated_cents + self.tax_allocated_cents

    @property
    def seller_payable_cents(self) -> int:
        """What this line earns its seller (docs/LEDGER.md): net plus their shipping."""
        return self.seller_net_cents + self.shipping_allocated_cents


class OrderEvent(models.Model):
    """The order's timeline, shown to the buyer and seller and used by staff."""

    class Kind(models.TextChoices):
        CREATED = "CREATED", "Order placed"
        PAID = "PAID", "Payment received"
        PAYMENT_FAILED = "PAYMENT_FAILED", "Payment failed"
        EXPIRED = "EXPIRED", "Checkout expired"
        CANCELLED = "CANCELLED", "Cancelled"
        TRANSFER_CREATED = "TRANSFER_CREATED", "Seller paid out"
        SHIPPED = "SHIPPED", "Shipped"
        DELIVERED = "DELIVERED", "Delivered"
        REFUND = "REFUND", "Refund"
        DISPUTE = "DISPUTE", "Dispute"
        NOTE = "NOTE", "Note"

    # What a buyer's timeline shows; payouts and internal notes stay on seller/staff views.
    BUYER_KINDS = (
        Kind.CREATED,
        Kind.PAID,
        Kind.PAYMENT_FAILED,
        Kind.EXPIRED,
        Kind.CANCELLED,
        Kind.SHIPPED,
        Kind.DELIVERED,
        Kind.REFUND,
    )

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    item = models.ForeignKey(
        OrderItem, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    message = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.order_id})"
