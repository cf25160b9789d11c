from django.conf import settings
from django.db import models


class ProductDownloadEvent(models.Model):
    """One download of a product's file (or of its whole bundle, `asset` empty).

    Who: `user`, or for a guest the session key (blank when there was none). Paid
    downloads point at the order line that entitles them. Sellers and staff are never
    recorded. Unique downloaders = distinct users + distinct non-blank guest sessions.
    """

    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="download_events"
    )
    asset = models.ForeignKey(
        "catalog.DigitalAsset",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="download_events",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="download_events",
    )
    session_key = models.CharField(max_length=40, blank=True)
    order_item = models.ForeignKey(
        "orders.OrderItem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="download_events",
    )
    bytes = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["product", "created_at"]),
            models.Index(fields=["user", "product"]),
        ]

    def __str__(self) -> str:
        return f"download of {self.product_id} ({self.asset_id or 'bundle'})"
