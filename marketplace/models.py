import functools
import secrets
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django_countries.fields import CountryField

from marketplace.uploads import validate_avatar


class UserManager(BaseUserManager):
    """Email is the login. Addresses are stored lower-cased so lookups are exact."""

    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **extra)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        if not extra["is_staff"] or not extra["is_superuser"]:
            raise ValueError("A superuser needs is_staff and is_superuser.")
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person with an account: buyer, seller (has a SellerProfile), staff.

    Email verification lives in allauth's EmailAddress; `marketplace.selectors`
    answers "is this user verified?" so no view reaches into allauth directly.
    `can_be_paid` is owned here but written only by
    `payments.services.seller_payment_ready_refresh`, so lower layers (catalog, orders)
    read the seller's readiness without importing payments.
    """

    username = None
    email = models.EmailField("email address", unique=True)
    name = models.CharField("full name", max_length=150, blank=True)
    can_be_paid = models.BooleanField(
        "can be paid",
        default=False,
        help_text="Kept current by payments (its Stripe account is ready): paid listings "
        "of this seller can be bought. Read by catalog and checkout instead of payments.",
    )

    is_suspended = models.BooleanField(
        "suspended",
        default=False,
        help_text="Kept by moderation (an active Suspension exists): the user can sign in and "
        "read but not sell, post, message, review or report; their listings are hidden. Read "
        "by lower apps (catalog's PUBLIC, access mixins) instead of importing moderation.",
    )

    # Where this buyer last chose to ship printed items (the cart's "Ship to"); the
    # session's choice wins while it lasts. Written by orders' ship-to service.
    ship_to_country = CountryField("ships to", blank=True)

    # What other people see of a buyer (on reviews): never the email address.
    display_name = models.CharField(
        "display name",
        max_length=60,
        blank=True,
        help_text="Shown on your reviews instead of “Verified buyer”.",
    )
    avatar = models.ImageField(upload_to="avatars/users/", blank=True, validators=[validate_avatar])
    # Set by `accounts.deletion.account_delete`: the row stays (orders, ledger and tax
    # records point at it) but every personal field is erased.
    deleted_at = models.DateTimeField("deleted", null=True, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email.split("@")[0]

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


def avatar_upload_to(instance: "SellerProfile", filename: str) -> str:
    # The stored name never uses the uploaded name: it is normalised to WebP on upload.
    return f"avatars/{instance.user_id}/{filename}"


def default_time_zone() -> str:
    return settings.TIME_ZONE


def validate_time_zone(value: str) -> None:
    if value not in available_time_zones():
        raise ValidationError("Choose a time zone from the list.")


@functools.cache
def available_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class SellerProfile(models.Model):
    """What makes a user a seller: the public shop identity at /shops/<slug>/."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="seller_profile")
    display_name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=60, unique=True)
    bio = models.TextField(blank=True, max_length=2000)
    avatar = models.ImageField(upload_to=avatar_upload_to, blank=True, validators=[validate_avatar])
    # The seller's day: their analytics windows ("last 7 days", daily charts) follow it.
    time_zone = models.CharField(
        max_length=64, default=default_time_zone, validators=[validate_time_zone]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name

    def get_absolute_url(self) -> str:
        return reverse("catalog:shop-detail", kwargs={"slug": self.slug})


def new_installation_id() -> str:
    return secrets.token_hex(6)


class SiteConfig(models.Model):
    """The one row of marketplace-wide knobs that staff tune in the admin.

    Read it through `marketplace.selectors.site_config_get()` (cached) and change it
    through `marketplace.services.site_config_update()` (invalidates the cache).
    Orders snapshot `fee_bps`, so changing it never alters a past order.
    """

    SINGLETON_PK = 1

    fee_bps = models.PositiveIntegerField(
        "marketplace fee (basis points)",
        default=1000,
        validators=[MaxValueValidator(10_000)],
        help_text="1000 = 10.00% of each line's subtotal. Snapshotted on every order.",
    )
    free_listing_cap = models.PositiveIntegerField(
        "free digital listings per seller",
        default=25,
        help_text="How many free FILE listings one seller may have published at once.",
    )
    top_rated_min_reviews = models.PositiveIntegerField(
        "Top Rated minimum reviews",
        default=3,
        help_text="Reviews a product needs before it ranks in Top Rated.",
    )
    trending_window_days = models.PositiveIntegerField(
        "trending window (days)", default=14, validators=[MinValueValidator(1)]
    )
    trending_top_n = models.PositiveIntegerField(
        "trending Top N", default=12, help_text="How many products may carry the badge."
    )
    refund_window_days = models.PositiveIntegerField(
        "refund window (days)",
        default=14,
        help_text="Days a buyer may ask for a refund: from payment for files, from delivery "
        "for printed items.",
    )
    refund_files_before_download = models.BooleanField(
        "refund files not yet downloaded at once",
        default=True,
        help_text="A buyer who asks within the window for a file they never downloaded is "
        "refunded without waiting for the seller. Once downloaded, the seller or staff decide.",
    )
    min_price_cents = models.PositiveIntegerField(
        "minimum price of a paid item (cents)",
        default=100,
        validators=[MinValueValidator(50)],
        help_text="A paid listing costs at least this; 0 (free) stays allowed for files. "
        "Never below Stripe's minimum charge, 50 cents in usd.",
    )
    fee_fixed_cents = models.PositiveIntegerField(
        "fixed fee per seller order (cents)",
        default=0,
        help_text="Added to the percentage fee once per seller of an order, split over "
        "that seller's lines by subtotal; never more than a line's subtotal. Snapshotted.",
    )
    auto_deliver_after_days = models.PositiveIntegerField(
        "mark delivered after (days)",
        default=30,
        validators=[MinValueValidator(1)],
        help_text="A shipped printed item the buyer has not confirmed is marked delivered "
        "this many days after it shipped.",
    )
    # Prefixes every idempotency key we send Stripe (unless STRIPE_IDEMPOTENCY_PREFIX is
    # set), so two installations, or a reset database, sharing one Stripe account never
    # replay each other's keys. A new database gets a new value.
    installation_id = models.CharField(max_length=32, default=new_installation_id, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "site configuration"
        verbose_name_plural = "site configuration"
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="siteconfig_singleton"),
            models.CheckConstraint(
                condition=models.Q(fee_bps__lte=10_000), name="siteconfig_fee_bps_lte_100pct"
            ),
            models.CheckConstraint(
                condition=models.Q(min_price_cents__gte=50),
                name="siteconfig_min_price_gte_stripe_minimum",
            ),
            models.CheckConstraint(
                condition=models.Q(auto_deliver_after_days__gte=1),
                name="siteconfig_auto_deliver_gte_1",
            ),
            models.CheckConstraint(
                condition=models.Q(trending_window_days__gte=1),
                name="siteconfig_trending_window_gte_1",
            ),
        ]

    def __str__(self) -> str:
        return "Site configuration"

    @property
    def fee_percent(self) -> str:
        whole, cents = divmod(self.fee_bps, 100)
        return f"{whole}.{cents:02d}%"


class LegalDocument(models.Model):
    """One version of a legal text (terms, privacy policy…), in markdown.

    A new version is a new row; the current version of a kind is the latest whose
    `effective_at` has passed (`marketplace.legal.legal_document_current`). A version in
    effect is never edited (the admin makes it read-only): what a person accepted stays
    readable exactly as it was.
    """

    class Kind(models.TextChoices):
        TERMS = "TERMS", "Terms of service"
        PRIVACY = "PRIVACY", "Privacy policy"
        SELLER_AGREEMENT = "SELLER_AGREEMENT", "Seller agreement"
        REFUND_POLICY = "REFUND_POLICY", "Refund policy"
        CONTENT_POLICY = "CONTENT_POLICY", "Content and IP policy"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    version = models.PositiveIntegerField()
    effective_at = models.DateTimeField(
        help_text="From this moment this version is the one in force (and signed-in users "
        "are asked to accept it when its kind needs consent)."
    )
    summary_of_changes = models.CharField(max_length=300, blank=True)
    body = models.TextField(help_text="Markdown. Headings start at ##.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="legaldocument_kind_version")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version}"


class LegalAcceptance(models.Model):
    """That a person accepted one version of a legal document, when and from which IP.

    Either `user` (an account: at signup, on becoming a seller, when a new version takes
    effect) or `order_id` (a guest checkout; orders sits above marketplace, so the order is
    referenced by id, written by the checkout that creates it). Rows are never edited;
    account deletion keeps them (proof of consent) pointing at the anonymised user.
    """

    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="legal_acceptances"
    )
    order_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    document = models.ForeignKey(LegalDocument, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField(auto_now_add=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-accepted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | models.Q(order_id__isnull=False),
                name="legalacceptance_user_or_order",
            ),
            models.UniqueConstraint(
                fields=["user", "document"],
                condition=models.Q(user__isnull=False),
                name="legalacceptance_once_per_user",
            ),
            models.UniqueConstraint(
                fields=["order_id", "document"],
                condition=models.Q(order_id__isnull=False),
                name="legalacceptance_once_per_order",
            ),
        ]

    def __str__(self) -> str:
        who = f"user {self.user_id}" if self.user_id else f"order {self.order_id}"
        return f"{who} accepted {self.document}"
