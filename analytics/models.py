from django.conf import settings
from django.db import models


class ProductEngagementEvent(models.Model):
    """A signal of interest in a listing, for trending and seller analytics.

    Written best-effort by `analytics.services.engagement_record`: a failure here never
    breaks the action that caused it. Either `user` or `session_key` says who.
    """

    class Kind(models.TextChoices):
        VIEW = "VIEW", "View"
        CLICK = "CLICK", "Click"
        ADD_TO_CART = "ADD_TO_CART", "Add to cart"

    class Source(models.TextChoices):
        """Where a CLICK came from: the card grid that linked to the product."""

        SEARCH = "search", "Search results"
        BROWSE = "browse", "Browse and categories"
        HOME = "home", "Home page"
        SIMILAR = "similar", "More like this"
        SHOP = "shop", "Shop page"

    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="engagement_events"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    session_key = models.CharField(max_length=40, blank=True)
    # CLICK only: the card grid it came from, and the search typed there (normalized).
    source = models.CharField(max_length=10, choices=Source.choices, blank=True)
    query = models.CharField(max_length=200, blank=True)
    # Who, for deduplication: "u<user id>", else a keyed hash of the client IP (a guest's
    # session is free to replace, an address is not). One row per visitor, product,
    # kind and UTC day (analytics.services.engagement_record).
    visitor = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["product", "kind", "created_at"]),
            models.Index(fields=["kind", "created_at"], name="engagement_kind_created"),
            models.Index(fields=["product", "kind", "visitor", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.product_id}"


class SearchMiss(models.Model):
    """A search that found nothing, for staff to see what buyers look for in vain."""

    query = models.CharField(max_length=200, unique=True)
    count = models.PositiveIntegerField(default=1)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-count", "-last_seen"]
        verbose_name_plural = "search misses"

    def __str__(self) -> str:
        return f"{self.query} ({self.count})"


class SearchMissDay(models.Model):
    """How often a search found nothing on one day (UTC), so "the last 30 days" is exact.

    `SearchMiss` keeps the all-time count; this is its daily breakdown, written by the same
    service (`search_miss_record`) and read by the "what buyers look for" pages."""

    query = models.CharField(max_length=200)
    day = models.DateField()
    count = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["query", "day"], name="search_miss_day_unique")
        ]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.query} on {self.day} ({self.count})"
