import logging

from allauth.account.models import EmailAddress
from django.core.cache import cache

from marketplace.models import SellerProfile, SiteConfig, User

logger = logging.getLogger(__name__)

SITE_CONFIG_CACHE_KEY = "marketplace:siteconfig:v1"
# A safety net only: saves invalidate the key at once (services.site_config_update).
SITE_CONFIG_CACHE_SECONDS = 300


def site_config_get() -> SiteConfig:
    """The SiteConfig row, from the shared cache; at most one query on a miss.

    A cache outage degrades to a database read (logged), never to an error page.
    """
    try:
        config = cache.get(SITE_CONFIG_CACHE_KEY)
    except Exception:  # the cache server is down: the database still has the truth
        logger.warning("site config: cache unavailable, reading the database", exc_info=True)
        return _site_config_from_db()
    if config is None:
        config = _site_config_from_db()
        try:
            cache.set(SITE_CONFIG_CACHE_KEY, config, SITE_CONFIG_CACHE_SECONDS)
        except Exception:
            logger.warning("site config: could not cache", exc_info=True)
    return config


def _site_config_from_db() -> SiteConfig:
    config = SiteConfig.objects.filter(pk=SiteConfig.SINGLETON_PK).first()
    if config is None:
        # First read on a fresh database: the defaults are the configuration.
        config, _ = SiteConfig.objects.get_or_create(pk=SiteConfig.SINGLETON_PK)
    return config


def user_has_verified_email(user: User) -> bool:
    if not user.is_authenticated:
        return False
    return EmailAddress.objects.filter(user=user, verified=True).exists()


def seller_profile_for_user(user: User) -> SellerProfile | None:
    if not user.is_authenticated:
        return None
    return SellerProfile.objects.filter(user=user).first()


# Whose shop the public sees: the twin of `seller_is_listed` (active, not suspended).
SHOP_LISTED = {"user__is_active": True, "user__is_suspended": False}


def seller_profile_get_public(*, slug: str, viewer: User | None = None) -> SellerProfile | None:
    """The shop at `slug` if `viewer` may see it: anyone while its owner is an active,
    non-suspended account; a suspended owner's shop only to them and to staff."""
    profile = (
        SellerProfile.objects.select_related("user").filter(slug=slug, user__is_active=True).first()
    )
    if profile is None or seller_is_listed(profile.user):
        return profile
    may_see = (
        viewer is not None
        and viewer.is_authenticated
        and (viewer.is_staff or viewer.pk == profile.user_id)
    )
    return profile if may_see else None


def seller_can_be_paid(*, seller_id: int) -> bool:
    """Whether the seller's Stripe account is ready, as payments last recorded it on
    `User.can_be_paid` (one fresh read; list pages annotate the flag instead)."""
    return User.objects.filter(pk=seller_id, can_be_paid=True).exists()


def refund_policy_lines() -> list[str]:
    """The refund policy as buyers read it (checkout, order page, the refund form), from
    SiteConfig, so the pages and `refunds.policy`, which enforces it, never disagree."""
    config = site_config_get()
    files = (
        "Files you have not downloaded yet are refunded at once; after a download, the "
        "seller decides."
        if config.refund_files_before_download
        else "Files are refunded when the seller agrees."
    )
    return [
        f"You can ask for a refund within {config.refund_window_days} days: from payment "
        "for files, from delivery for printed items.",
        files,
        "Shipping is refunded while the item has not shipped.",
    ]


def seller_is_listed(seller: User) -> bool:
    """Whether a seller's published listings are shown to the public: the Python twin of
    `PUBLIC`'s seller terms (active, not suspended)."""
    return seller.is_active and not seller.is_suspended
