from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from marketplace.exceptions import ApplicationError
from marketplace.legal import SELLER_KINDS, legal_accept
from marketplace.models import SellerProfile, SiteConfig, User
from marketplace.selectors import SITE_CONFIG_CACHE_KEY, user_has_verified_email
from marketplace.uploads import normalize_image, validate_avatar

AVATAR_MAX_SIDE = 512


@transaction.atomic
def site_config_update(*, config: SiteConfig) -> SiteConfig:
    """Validate and save the singleton, then drop the cached copy once committed.

    Every process reads through the shared cache, so the next request anywhere sees
    the new values. Orders keep their own snapshot of the fee.
    """
    config.pk = SiteConfig.SINGLETON_PK
    config.full_clean()
    config.save()
    transaction.on_commit(lambda: cache.delete(SITE_CONFIG_CACHE_KEY))
    return config


def _unique_shop_slug(base: str, *, exclude_pk: int | None = None) -> str:
    base = slugify(base)[:50].strip("-") or "shop"
    candidate, n = base, 1
    taken = SellerProfile.objects.exclude(pk=exclude_pk)
    while taken.filter(slug=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _normalized_avatar(avatar: UploadedFile, *, user: User) -> UploadedFile:
    try:
        validate_avatar(avatar)
    except ValidationError as exc:
        raise ApplicationError(" ".join(exc.messages)) from exc
    return normalize_image(avatar, max_side=AVATAR_MAX_SIDE, name=f"avatar-{user.pk}")


def seller_profile_create(
    *,
    user: User,
    display_name: str,
    slug: str = "",
    bio: str = "",
    avatar: UploadedFile | None = None,
    ip: str | None = None,
) -> SellerProfile:
    """Make `user` a seller. Only a verified account may, and only once. Opening the shop
    records the user's acceptance of the Seller Agreement in force (from `ip`).

    A blank slug is derived from the display name and made unique; a slug the user
    chose that is taken is refused rather than silently changed.
    """
    if not user_has_verified_email(user):
        raise ApplicationError("Verify your email address before you open a shop.")
    if SellerProfile.objects.filter(user=user).exists():
        raise ApplicationError("You already have a shop.")
    if slug and SellerProfile.objects.filter(slug=slug).exists():
        raise ApplicationError("That shop address is taken. Choose another.")
    profile = SellerProfile(
        user=user,
        display_name=display_name.strip(),
        slug=slug or _unique_shop_slug(display_name),
        bio=bio.strip(),
    )
    if avatar:
        profile.avatar = _normalized_avatar(avatar, user=user)
    profile.full_clean(exclude=["avatar"])
    try:
        with transaction.atomic():
            profile.save()
            legal_accept(kinds=SELLER_KINDS, user=user, ip=ip)
    except IntegrityError as exc:  # two requests racing for the same slug or user
        raise ApplicationError("That shop address was just taken. Choose another.") from exc
    return profile


def seller_profile_update(
    *,
    profile: SellerProfile,
    display_name: str,
    slug: str,
    bio: str = "",
    avatar: UploadedFile | None = None,
    remove_avatar: bool = False,
    time_zone: str = "",
) -> SellerProfile:
    """Change a shop's public details (and the seller's time zone, when given). The slug
    stays unique across shops."""
    if slug != profile.slug and SellerProfile.objects.filter(slug=slug).exists():
        raise ApplicationError("That shop address is taken. Choose another.")
    if time_zone:
        profile.time_zone = time_zone
    profile.display_name = display_name.strip()
    profile.slug = slug
    profile.bio = bio.strip()
    if remove_avatar and profile.avatar:
        profile.avatar.delete(save=False)
        profile.avatar = ""
    if avatar:
        profile.avatar = _normalized_avatar(avatar, user=profile.user)
    profile.full_clean(exclude=["avatar"])
    try:
        with transaction.atomic():
            profile.save()
    except IntegrityError as exc:
        raise ApplicationError("That shop address was just taken. Choose another.") from exc
    return profile


def user_ship_to_country_set(*, user: User, country: str) -> None:
    """Remember where this account ships printed items (the cart's "Ship to")."""
    if user.is_authenticated and user.ship_to_country != country:
        User.objects.filter(pk=user.pk).update(ship_to_country=country)
        user.ship_to_country = country


def user_profile_update(
    *,
    user: User,
    display_name: str,
    name: str = "",
    avatar: UploadedFile | None = None,
    remove_avatar: bool = False,
) -> User:
    """Change what the account shows: the public display name (reviews), the private full
    name and the profile picture (validated by content, re-encoded without metadata).
    Nothing is saved if any value is refused."""
    user.display_name = " ".join(display_name.split())
    user.name = name.strip()
    old_avatar = user.avatar.name if user.avatar else ""
    if remove_avatar and user.avatar:
        user.avatar = ""
    if avatar:
        user.avatar = _normalized_avatar(avatar, user=user)
    try:
        user.full_clean(exclude=["password", "avatar"])
    except ValidationError as exc:
        raise ApplicationError(" ".join(exc.messages)) from exc
    user.save(update_fields=["display_name", "name", "avatar"])
    if old_avatar and old_avatar != (user.avatar.name if user.avatar else ""):
        # The old picture is no longer anyone's: remove the file once the row is saved.
        transaction.on_commit(lambda: default_storage.delete(old_avatar))
    return user
