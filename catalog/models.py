import secrets

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django_countries.fields import CountryField

from marketplace.storage import private_storage


class Category(models.Model):
    """A node of the category tree. `path` ("toys-games/puzzles/") makes "this category
    and everything below it" one indexed prefix filter instead of a recursive walk."""

    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:category-detail", kwargs={"slug": self.slug})


class Tag(models.Model):
    name = models.CharField(max_length=40, unique=True)
    slug = models.SlugField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class License(models.TextChoices):
    PERSONAL = "PERSONAL", "Personal use only"
    COMMERCIAL = "COMMERCIAL", "Commercial use allowed"
    CC_BY = "CC_BY", "Creative Commons Attribution (CC BY 4.0)"
    CC_BY_SA = "CC_BY_SA", "Creative Commons Attribution-ShareAlike (CC BY-SA 4.0)"
    CC_BY_NC = "CC_BY_NC", "Creative Commons Attribution-NonCommercial (CC BY-NC 4.0)"
    CC0 = "CC0", "Public domain (CC0 1.0)"


LICENSE_SUMMARIES = {
    License.PERSONAL: "Print it for yourself. Do not sell prints or share the files.",
    License.COMMERCIAL: "Print it and sell the prints. Do not share or resell the files.",
    License.CC_BY: "Share, remix and sell, as long as you credit the designer.",
    License.CC_BY_SA: "Share, remix and sell with credit; remixes must use the same licence.",
    License.CC_BY_NC: "Share and remix with credit, but not for commercial purposes.",
    License.CC0: "No rights reserved: use it for anything.",
}


class Product(models.Model):
    """A listing: a digital bundle (FILE) or a printed item (PHYSICAL).

    Money is integer minor units beside `currency`. Orders snapshot the price, so an
    edit here never changes a past order. Writes go through `catalog.services`.
    """

    class Kind(models.TextChoices):
        FILE = "FILE", "Digital file"
        PHYSICAL = "PHYSICAL", "Printed item"

    class Status(models.TextChoices):
        DRAFT = "DRAFT", "Draft"
        PUBLISHED = "PUBLISHED", "Published"
        ARCHIVED = "ARCHIVED", "Archived"

    # What a seller edits, per kind (the listing form and product_update share these).
    COMMON_FIELDS = (
        "title",
        "description",
        "price_cents",
        "category",
        "size_x_mm",
        "size_y_mm",
        "size_z_mm",
    )
    FILE_FIELDS = (
        "license",
        "print_material",
        "layer_height_mm",
        "infill_percent",
        "supports_needed",
        "print_time_minutes",
        "bed_min_x_mm",
        "bed_min_y_mm",
        "bed_min_z_mm",
    )
    PHYSICAL_FIELDS = (
        "material",
        "colour",
        "weight_grams",
        "stock_quantity",
        "shipping_profile",
    )

    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="products"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    description = models.TextField(blank=True, max_length=20_000, help_text="Markdown.")
    # Sanitized HTML rendered from `description` by the service that saves it.
    description_html = models.TextField(blank=True, editable=False)
    price_cents = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, default="usd")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    tags = models.ManyToManyField(Tag, blank=True, related_name="products")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # Moderation's takedown: hidden from everyone but the seller and staff, whatever status.
    is_taken_down = models.BooleanField(default=False)
    takedown_reason = models.CharField(max_length=500, blank=True)
    taken_down_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    cover_image = models.ForeignKey(
        "ProductImage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # FILE: licence and print settings.
    license = models.CharField(max_length=12, choices=License.choices, blank=True)
    # ",stl,3mf," — kept by the asset services for the browse "file format" filter.
    file_formats = models.CharField(max_length=100, blank=True, editable=False)
    print_material = models.CharField("recommended material", max_length=60, blank=True)
    layer_height_mm = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(5)],
    )
    infill_percent = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    supports_needed = models.BooleanField(null=True, blank=True)
    print_time_minutes = models.PositiveIntegerField(null=True, blank=True)
    bed_min_x_mm = models.PositiveIntegerField("minimum bed X (mm)", null=True, blank=True)
    bed_min_y_mm = models.PositiveIntegerField("minimum bed Y (mm)", null=True, blank=True)
    bed_min_z_mm = models.PositiveIntegerField("minimum build height (mm)", null=True, blank=True)

    # Both kinds: size of the model or the printed item.
    size_x_mm = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    size_y_mm = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    size_z_mm = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)

    # PHYSICAL: the printed item.
    material = models.CharField(max_length=60, blank=True)
    colour = models.CharField(max_length=60, blank=True)
    weight_grams = models.PositiveIntegerField(null=True, blank=True)
    stock_quantity = models.PositiveIntegerField(default=0)
    # Where it ships from, how long it takes and what shipping costs, per destination.
    shipping_profile = models.ForeignKey(
        "ShippingProfile",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
    )

    # Fed by later capabilities (downloads, discovery). Counters change only with F().
    download_count = models.BigIntegerField(default=0, editable=False)
    trending_score = models.FloatField(default=0, editable=False)
    trending_override_rank = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Staff: pin into Trending at this rank (1 = first)."
    )
    rating_count = models.PositiveIntegerField(default=0, editable=False)
    rating_sum = models.PositiveIntegerField(default=0, editable=False)

    # Search documents, kept by PostgreSQL itself: a trigger parses title and description
    # whenever either is written (catalog/migrations/0004), so search reads stored vectors
    # through GIN indexes instead of parsing rows per query. Always NULL on SQLite.
    title_document = SearchVectorField(null=True, editable=False)
    search_document = SearchVectorField(null=True, editable=False)  # title (A) + description (C)

    class Meta:
        # Drafts (no published_at) last on every database, as on SQLite.
        ordering = [models.F("published_at").desc(nulls_last=True), "-created_at"]
        # The browse pages' partial sort indexes are PostgreSQL-only (NULLS LAST):
        # analytics/migrations/0003_search_indexes.py.
        indexes = [
            models.Index(fields=["status", "is_taken_down", "-published_at"]),
            models.Index(fields=["seller", "status"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(price_cents__gte=0), name="product_price_gte_0"),
            # Free is for files only: a printed item always costs something.
            models.CheckConstraint(
                condition=Q(kind="FILE") | Q(price_cents__gt=0),
                name="product_physical_not_free",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("catalog:product-detail", kwargs={"slug": self.slug})

    @property
    def is_free(self) -> bool:
        return self.price_cents == 0

    @property
    def is_file(self) -> bool:
        return self.kind == self.Kind.FILE

    @property
    def is_public(self) -> bool:
        return self.status == self.Status.PUBLISHED and not self.is_taken_down

    @property
    def rating_average(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 1) if self.rating_count else None

    @property
    def license_summary(self) -> str:
        return LICENSE_SUMMARIES.get(self.license, "")

    @property
    def print_time_display(self) -> str:
        """145 → "2h 25m"; "" when unknown."""
        if not self.print_time_minutes:
            return ""
        hours, minutes = divmod(self.print_time_minutes, 60)
        return f"{hours}h {minutes}m" if hours else f"{minutes}m"

    @property
    def file_format_list(self) -> list[str]:
        return [f for f in self.file_formats.split(",") if f]


class ProductSlugHistory(models.Model):
    """A slug a product used to have; its URL redirects (301) to the current one."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="old_slugs")
    slug = models.SlugField(max_length=140, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "old product slug"
        verbose_name_plural = "old product slugs"

    def __str__(self) -> str:
        return self.slug


def product_image_upload_to(instance: "ProductImage", filename: str) -> str:
    # A random folder per file: a listing's pictures cannot be found by guessing while it
    # is a draft, taken down or hidden (on S3 the public bucket cannot ask who is asking).
    return f"products/{instance.product_id}/images/{secrets.token_hex(8)}/{filename}"


class ProductImage(models.Model):
    """A gallery picture, stored re-encoded (WebP, no EXIF) with two thumbnails."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(
        upload_to=product_image_upload_to, width_field="width", height_field="height"
    )
    card = models.ImageField(upload_to=product_image_upload_to, blank=True)
    detail = models.ImageField(upload_to=product_image_upload_to, blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    alt_text = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"Image {self.position} of {self.product_id}"


def digital_asset_upload_to(instance: "DigitalAsset", filename: str) -> str:
    # The stored name is opaque; the buyer gets `original_name` in Content-Disposition.
    return f"products/{instance.product_id}/files/{instance.sha256[:16]}/{filename}"


def preview_upload_to(instance: "DigitalAsset", filename: str) -> str:
    return f"products/{instance.product_id}/previews/{secrets.token_hex(8)}/{filename}"


class DigitalAsset(models.Model):
    """One file of a FILE product's bundle, in private storage."""

    class Kind(models.TextChoices):
        STL = "stl", "STL model"
        THREE_MF = "3mf", "3MF project"
        OBJ = "obj", "OBJ model"
        PDF = "pdf", "PDF instructions"
        IMAGE = "image", "Image"
        ZIP = "zip", "ZIP archive"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="assets")
    file = models.FileField(
        upload_to=digital_asset_upload_to, storage=private_storage, max_length=300
    )
    original_name = models.CharField(max_length=255)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    triangle_count = models.PositiveIntegerField(null=True, blank=True)
    is_previewable = models.BooleanField(
        default=False, help_text="Show a 3D preview of this file on the product page."
    )
    # A degraded copy (subsampled, quantized binary STL) that the public viewer loads.
    preview = models.FileField(upload_to=preview_upload_to, blank=True, max_length=300)
    download_count = models.BigIntegerField(default=0, editable=False)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    # Removed by the seller: gone from the listing, but the row (and file) stay for the
    # download history and for buyers whose order included it.
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "sha256"],
                condition=Q(removed_at__isnull=True),
                name="asset_unique_live_per_product",
            )
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def can_preview(self) -> bool:
        return self.kind in {self.Kind.STL, self.Kind.THREE_MF, self.Kind.OBJ}


# ------------------------------------------------------------------------------
# Reviews, seller replies, favorites and the wishlist (writes: catalog.reviews and
# catalog.favorites). The product's rating_count/rating_sum cache the visible reviews.
# ------------------------------------------------------------------------------
class Review(models.Model):
    """One buyer's rating and text for a product: one per author and product, editable.

    Only verified buyers of a paid, not-refunded line, or downloaders of a free file,
    may write one (`catalog.reviews.review_eligibility`). A hidden review (moderation)
    is left out of the page and of the product's rating aggregates.
    """

    RATING_MIN, RATING_MAX = 1, 5
    BODY_MIN_LENGTH, BODY_MAX_LENGTH = 10, 5000

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="reviews")
    # PROTECT, as for order buyers: deleting an account must not silently skew ratings.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews"
    )
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(RATING_MIN), MaxValueValidator(RATING_MAX)]
    )
    body = models.TextField(max_length=BODY_MAX_LENGTH)
    # Bought (a paid line, `order_item` set) or downloaded free: both are first-hand.
    is_verified_purchase = models.BooleanField(default=False)
    order_item = models.ForeignKey(
        "orders.OrderItem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reviews",
    )
    is_hidden = models.BooleanField(default=False, help_text="Hidden by moderation.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["product", "is_hidden", "-created_at"])]
        constraints = [
            models.UniqueConstraint(fields=["product", "author"], name="review_one_per_author"),
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5), name="review_rating_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        # Admin lists select_related("product", "author") to keep this one query.
        return f"{self.rating}★ review of “{self.product.title}” by {self.author}"


class ReviewReply(models.Model):
    """The seller's one public answer to a review (editable)."""

    BODY_MAX_LENGTH = 2000

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="reply")
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_replies"
    )
    body = models.TextField(max_length=BODY_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "review replies"

    def __str__(self) -> str:
        return f"Reply to review {self.review_id}"


class Favorite(models.Model):
    """A product the user liked."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favorites"
    )
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="favorites")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "product"], name="favorite_unique_per_user")
        ]

    def __str__(self) -> str:
        return f"♥ {self.product_id} by {self.user_id}"


class WishlistItem(models.Model):
    """A product the user wants to buy later (moved to the cart from the saved page)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wishlist_items"
    )
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="wishlist_items")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "product"], name="wishlist_unique_per_user")
        ]

    def __str__(self) -> str:
        return f"Wishlist {self.product_id} for {self.user_id}"


class ShippingProfile(models.Model):
    """How a seller ships printed items: from where, how fast, and what it costs to
    each destination. Every printed listing uses one (`Product.shipping_profile`).

    The shipping of a seller's part of an order is computed from these rows by one
    function, `catalog.shipping.seller_shipping_quote`, and snapshotted on the order.
    """

    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shipping_profiles"
    )
    name = models.CharField(max_length=80, help_text="For you, e.g. “Small parcels”.")
    origin_country = CountryField("ships from")
    processing_min_days = models.PositiveSmallIntegerField(
        "processing time from (business days)", default=1, validators=[MaxValueValidator(60)]
    )
    processing_max_days = models.PositiveSmallIntegerField(
        "processing time to (business days)", default=3, validators=[MaxValueValidator(60)]
    )
    currency = models.CharField(max_length=3, default="usd")
    free_over_cents = models.BigIntegerField(
        "free shipping over (cents)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Free shipping when the buyer's items from you add up to at least this.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["seller_id", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(processing_max_days__gte=models.F("processing_min_days")),
                name="shippingprofile_processing_range",
            ),
            models.CheckConstraint(
                condition=Q(free_over_cents__isnull=True) | Q(free_over_cents__gt=0),
                name="shippingprofile_free_over_gt_0",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def processing_label(self) -> str:
        if self.processing_min_days == self.processing_max_days:
            days = self.processing_max_days
            return f"{days} business day{'s' if days != 1 else ''}"
        return f"{self.processing_min_days}–{self.processing_max_days} business days"


class ShippingRate(models.Model):
    """What one destination costs: `country`, or every other country when blank."""

    profile = models.ForeignKey(ShippingProfile, on_delete=models.CASCADE, related_name="rates")
    country = CountryField(blank=True, help_text="Blank: everywhere else.")
    first_item_cents = models.BigIntegerField(validators=[MinValueValidator(0)])
    additional_item_cents = models.BigIntegerField(validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["profile_id", "country"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "country"], name="shippingrate_unique"),
            models.CheckConstraint(
                condition=Q(first_item_cents__gte=0) & Q(additional_item_cents__gte=0),
                name="shippingrate_amounts_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country.name if self.country else 'Everywhere else'}"
