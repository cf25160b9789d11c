"""Every write to the catalog. Each public function is one transaction.

Listings belong to their seller; callers pass products already scoped to the requester
(`catalog.selectors.product_get_for_seller`), so services check rules, not ownership.
"""

import os
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import get_valid_filename, slugify

from catalog.markdown import render_markdown
from catalog.models import (
    Category,
    DigitalAsset,
    License,
    Product,
    ProductImage,
    ProductSlugHistory,
    ShippingProfile,
    ShippingRate,
    Tag,
)
from catalog.validation import validate_digital_file
from marketplace.audit import staff_action
from marketplace.exceptions import ApplicationError
from marketplace.models import User
from marketplace.selectors import seller_can_be_paid, site_config_get
from marketplace.templatetags.money import format_money
from marketplace.uploads import normalize_image, validate_image_upload

MAX_IMAGES_PER_PRODUCT = 12
MAX_ASSETS_PER_PRODUCT = 20
MIN_DESCRIPTION_CHARS = 20
IMAGE_SIDES = {"image": 2400, "detail": 1200, "card": 480}


# ------------------------------------------------------------------------------
# Publish checklist: the one place that decides whether a listing may go live
# ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChecklistItem:
    label: str
    done: bool


@dataclass(frozen=True)
class PublishChecklist:
    items: list[ChecklistItem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(item.done for item in self.items)

    @property
    def missing(self) -> list[str]:
        return [item.label for item in self.items if not item.done]


def publish_checklist(
    product: Product, *, image_count: int, asset_count: int, seller_ready: bool
) -> PublishChecklist:
    """What `product` still needs before it may be published, from facts the caller
    gathered (so a list page can gather them for every row in a few queries)."""
    items = [
        ChecklistItem("Add a title", bool(product.title.strip())),
        ChecklistItem(
            f"Write a description (at least {MIN_DESCRIPTION_CHARS} characters)",
            len(product.description.strip()) >= MIN_DESCRIPTION_CHARS,
        ),
        ChecklistItem("Add at least one image", image_count > 0),
    ]
    if product.kind == Product.Kind.FILE:
        items += [
            ChecklistItem("Upload at least one file", asset_count > 0),
            ChecklistItem("Choose a licence", bool(product.license)),
        ]
        if product.price_cents > 0:
            items.append(ChecklistItem("Connect Stripe to sell paid items", seller_ready))
    else:
        items += [
            ChecklistItem("Set a price", product.price_cents > 0),
            ChecklistItem("Choose a shipping profile", product.shipping_profile_id is not None),
            ChecklistItem("Have at least one in stock", product.stock_quantity > 0),
            ChecklistItem("Connect Stripe to sell paid items", seller_ready),
        ]
    return PublishChecklist(items)


def product_publish_checklist(product: Product) -> PublishChecklist:
    return publish_checklist(
        product,
        image_count=product.images.count(),
        asset_count=product.assets.filter(removed_at__isnull=True).count(),
        seller_ready=seller_can_be_paid(seller_id=product.seller_id),
    )


# ------------------------------------------------------------------------------
# Listings
# ------------------------------------------------------------------------------
def _slug_taken(slug: str, *, exclude_pk: int | None = None) -> bool:
    return (
        Product.objects.filter(slug=slug).exclude(pk=exclude_pk).exists()
        or ProductSlugHistory.objects.filter(slug=slug).exclude(product_id=exclude_pk).exists()
    )


def _unique_product_slug(title: str, *, exclude_pk: int | None = None) -> str:
    base = slugify(title)[:120].strip("-") or "listing"
    candidate, n = base, 1
    while _slug_taken(candidate, exclude_pk=exclude_pk):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _tags_from_names(names: list[str]) -> list[Tag]:
    tags = []
    for name in dict.fromkeys(n.strip().lower() for n in names if n.strip()):
        slug = slugify(name)[:50]
        if not slug:
            continue
        tag, _ = Tag.objects.get_or_create(slug=slug, defaults={"name": name[:40]})
        tags.append(tag)
    return tags


def _apply_fields(product: Product, values: dict) -> None:
    allowed = Product.COMMON_FIELDS + (
        Product.FILE_FIELDS if product.is_file else Product.PHYSICAL_FIELDS
    )
    for name in allowed:
        if name in values:
            setattr(product, name, values[name])
    if product.kind == Product.Kind.PHYSICAL and product.price_cents == 0:
        raise ApplicationError("A printed item needs a price: only digital files can be free.")
    minimum = site_config_get().min_price_cents
    if 0 < product.price_cents < minimum:
        raise ApplicationError(
            f"A paid item costs at least {format_money(minimum, product.currency)}"
            + (" (or 0 for a free file)." if product.is_file else ".")
        )
    if product.shipping_profile_id and product.shipping_profile.seller_id != product.seller_id:
        raise ApplicationError("Choose one of your own shipping profiles.")
    product.description_html = render_markdown(product.description)


def _full_clean(product: Product) -> None:
    try:
        product.full_clean(exclude=["cover_image"])
    except ValidationError as exc:
        raise ApplicationError(" ".join(exc.messages), extra=exc.message_dict) from exc


@transaction.atomic
def product_create(
    *, seller: User, kind: str, title: str, category: Category, tags: list[str] = (), **values
) -> Product:
    """A new DRAFT listing. Its slug comes from the title and never follows later title
    edits (links keep working); the seller can change it explicitly."""
    if kind not in Product.Kind.values:
        raise ApplicationError("Choose whether you sell a digital file or a printed item.")
    product = Product(
        seller=seller,
        kind=kind,
        title=title.strip(),
        category=category,
        currency=settings.DEFAULT_CURRENCY,
    )
    _apply_fields(product, {"title": title.strip(), "category": category, **values})
    product.slug = _unique_product_slug(product.title)
    _full_clean(product)
    product.save()
    product.tags.set(_tags_from_names(list(tags)))
    return product


@transaction.atomic
def product_update(
    *, product: Product, slug: str | None = None, tags: list[str] | None = None, **values
) -> Product:
    """Edit a listing. A new slug keeps the old one as a redirect.

    A published listing stays published only while it still passes the checklist.
    """
    if values.get("price_cents") == 0:  # may become free: the cap's lock, seller first
        User.objects.select_for_update().filter(pk=product.seller_id).first()
    product = Product.objects.select_for_update().get(pk=product.pk)
    was_free = product.is_free
    _apply_fields(product, values)
    if (
        product.status == Product.Status.PUBLISHED
        and product.is_file
        and product.is_free
        and not was_free
    ):
        _check_free_listing_cap(product, action="update")
    if slug is not None:
        slug = slugify(slug)[:140]
        if not slug:
            raise ApplicationError("The web address needs letters or digits.")
        if slug != product.slug:
            if _slug_taken(slug, exclude_pk=product.pk):
                raise ApplicationError("That web address is taken by another listing.")
            ProductSlugHistory.objects.filter(product=product, slug=slug).delete()
            ProductSlugHistory.objects.create(product=product, slug=product.slug)
            product.slug = slug
    _full_clean(product)
    if product.status == Product.Status.PUBLISHED:
        checklist = product_publish_checklist(product)
        if not checklist.ok:
            raise ApplicationError(
                "A published listing must stay complete: " + "; ".join(checklist.missing) + "."
            )
    product.save()
    if tags is not None:
        product.tags.set(_tags_from_names(tags))
    return product


def _check_free_listing_cap(product: Product, *, action: str) -> None:
    """Refuse when `product`, a free file, would go live past SiteConfig's free listing
    cap. The caller holds the seller's row lock (taken before the product's, as
    `product_publish` does), so two requests cannot both slip under the cap."""
    cap = site_config_get().free_listing_cap
    live_free = (
        Product.objects.filter(
            seller_id=product.seller_id,
            kind=Product.Kind.FILE,
            price_cents=0,
            status=Product.Status.PUBLISHED,
        )
        .exclude(pk=product.pk)
        .count()
    )
    if live_free >= cap:
        what = "publish this one" if action == "publish" else "make this one free"
        raise ApplicationError(
            f"You already have {live_free} free listings published, the most allowed is "
            f"{cap}, so you cannot {what}. Archive a free listing, or keep a price on this one."
        )


@transaction.atomic
def product_publish(*, product: Product) -> Product:
    """DRAFT or ARCHIVED → PUBLISHED, if the checklist passes and, for a free file, the
    seller is under SiteConfig's free listing cap.

    Locks the seller's row so two publishes of the same seller cannot both slip under
    the cap.
    """
    User.objects.select_for_update().filter(pk=product.seller_id).first()
    product = Product.objects.select_for_update().get(pk=product.pk)
    if product.is_taken_down:
        raise ApplicationError("This listing was taken down by our staff and cannot be published.")
    if product.status == Product.Status.PUBLISHED:
        return product
    checklist = product_publish_checklist(product)
    if not checklist.ok:
        raise ApplicationError("Not ready to publish: " + "; ".join(checklist.missing) + ".")
    if product.is_file and product.is_free:
        _check_free_listing_cap(product, action="publish")
    product.status = Product.Status.PUBLISHED
    product.published_at = product.published_at or timezone.now()
    product.save(update_fields=["status", "published_at", "updated_at"])
    return product


@transaction.atomic
def product_take_down(
    *, product: Product, reason: str, staff: User | None = None, audited: bool = True
) -> Product:
    """Staff hide a listing from everyone but its seller and staff, whatever its status,
    with the reason its seller reads on the listing. Taking down a listing that is
    already down only updates the reason (its `taken_down_at` stays the first one).
    Audited (`marketplace.audit.staff_action`, actor `staff`); the seller receives the
    statement of reasons and may appeal once. `audited=False`: the caller records its own,
    more specific decision in the same transaction (an IP takedown), so the seller gets
    one statement, not two."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ApplicationError("Give a reason: the seller reads it on their listing.")
    max_length = Product._meta.get_field("takedown_reason").max_length
    if len(reason) > max_length:
        raise ApplicationError(f"Keep the reason under {max_length} characters.")
    product = _lock_listing(product.pk)
    before = {"is_taken_down": product.is_taken_down, "takedown_reason": product.takedown_reason}
    if not product.is_taken_down:
        product.is_taken_down = True
        product.taken_down_at = timezone.now()
    product.takedown_reason = reason
    product.save(update_fields=["is_taken_down", "taken_down_at", "takedown_reason", "updated_at"])
    if not audited:
        return product
    staff_action(
        actor=staff,
        action="listing.take_down",
        target=product,
        reason=reason,
        before=before,
        after={"is_taken_down": True, "takedown_reason": reason},
        subject_user=product.seller,
        statement=f"Your listing “{product.title}” was taken down",
        appealable=True,
    )
    return product


@transaction.atomic
def product_take_down_lift(*, product: Product, reason: str, staff: User | None = None) -> Product:
    """Staff put a taken-down listing back (e.g. an appeal was upheld): it shows again
    wherever its status allows. Audited; the seller is told. Idempotent."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ApplicationError("Give a reason for restoring this listing.")
    product = _lock_listing(product.pk)
    if not product.is_taken_down:
        return product
    before = {"is_taken_down": True, "takedown_reason": product.takedown_reason}
    product.is_taken_down, product.taken_down_at, product.takedown_reason = False, None, ""
    product.save(update_fields=["is_taken_down", "taken_down_at", "takedown_reason", "updated_at"])
    staff_action(
        actor=staff,
        action="listing.restore",
        target=product,
        reason=reason,
        before=before,
        after={"is_taken_down": False},
        subject_user=product.seller,
        statement=f"Your listing “{product.title}” is back",
    )
    return product


def _product_set_status(product: Product, status: str) -> Product:
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=product.pk)
        product.status = status
        product.save(update_fields=["status", "updated_at"])
    return product


def product_archive(*, product: Product) -> Product:
    """Hide a listing from the shop; past buyers keep what they bought."""
    return _product_set_status(product, Product.Status.ARCHIVED)


def product_unpublish(*, product: Product) -> Product:
    """Back to DRAFT, to work on it out of sight."""
    return _product_set_status(product, Product.Status.DRAFT)


@transaction.atomic
def product_duplicate(*, product: Product) -> Product:
    """A DRAFT copy with the same details, tags, images and files; counters start at 0."""
    source = Product.objects.get(pk=product.pk)
    copy = Product.objects.get(pk=product.pk)
    copy.pk = None
    copy.title = f"{source.title} (copy)"[:120]
    copy.slug = _unique_product_slug(copy.title)
    copy.status = Product.Status.DRAFT
    copy.published_at = None
    copy.is_taken_down, copy.takedown_reason, copy.taken_down_at = False, "", None
    copy.cover_image = None
    copy.download_count = 0
    copy.trending_score, copy.trending_override_rank = 0, None
    copy.rating_count = copy.rating_sum = 0
    copy.save()
    copy.tags.set(source.tags.all())
    for image in source.images.all():
        new = ProductImage(product=copy, alt_text=image.alt_text, position=image.position)
        for name in IMAGE_SIDES:
            stored = getattr(image, name)
            if stored:
                with stored.open("rb") as fh:
                    getattr(new, name).save(
                        os.path.basename(stored.name), ContentFile(fh.read()), save=False
                    )
        new.width, new.height = image.width, image.height
        new.save()
        if source.cover_image_id == image.pk:
            copy.cover_image = new
    for asset in source.assets.filter(removed_at__isnull=True):
        new = DigitalAsset(
            product=copy,
            original_name=asset.original_name,
            kind=asset.kind,
            size_bytes=asset.size_bytes,
            sha256=asset.sha256,
            triangle_count=asset.triangle_count,
            is_previewable=asset.is_previewable,
            position=asset.position,
        )
        with asset.file.open("rb") as fh:
            new.file.save(os.path.basename(asset.file.name), fh, save=False)
        if asset.preview:
            with asset.preview.open("rb") as fh:
                new.preview.save(os.path.basename(asset.preview.name), fh, save=False)
        new.save()
    if copy.cover_image_id is None:
        copy.cover_image = copy.images.first()
    copy.save(update_fields=["cover_image"])
    return copy


# ------------------------------------------------------------------------------
# Images
# ------------------------------------------------------------------------------
def _lock_listing(product_id: int) -> Product:
    """Lock the listing's row and return it fresh. Every write to its pictures and files
    takes this lock first, so the caps, the "a published listing keeps one" rules, the
    cover and `file_formats` are decided on what is really there."""
    return Product.objects.select_for_update().get(pk=product_id)


def _reset_cover(product: Product) -> None:
    first = product.images.order_by("position", "id").first()
    Product.objects.filter(pk=product.pk).update(cover_image=first)
    product.cover_image = first


@transaction.atomic
def product_image_add(
    *, product: Product, upload: UploadedFile, alt_text: str = ""
) -> ProductImage:
    """Check the picture by content, store it re-encoded (no EXIF) with a detail and a card
    thumbnail, and make it the cover if it is the first."""
    locked = _lock_listing(product.pk)
    if product.images.count() >= MAX_IMAGES_PER_PRODUCT:
        raise ApplicationError(f"A listing can have at most {MAX_IMAGES_PER_PRODUCT} images.")
    try:
        validate_image_upload(upload, max_bytes=settings.PRODUCT_IMAGE_MAX_BYTES, min_side=200)
    except ValidationError as exc:
        raise ApplicationError(" ".join(exc.messages)) from exc
    next_position = (product.images.aggregate(m=Max("position"))["m"] or 0) + 1
    image = ProductImage(
        product=product,
        alt_text=alt_text.strip()[:200] or product.title,
        position=next_position if product.images.exists() else 0,
    )
    stem = get_valid_filename(os.path.splitext(os.path.basename(upload.name))[0])[:40] or "image"
    for name, side in IMAGE_SIDES.items():
        webp = normalize_image(upload, max_side=side, name=f"{stem}-{name}")
        getattr(image, name).save(webp.name, webp, save=False)
    image.save()
    if locked.cover_image_id is None:
        Product.objects.filter(pk=product.pk).update(cover_image=image)
        product.cover_image = image
    return image


@transaction.atomic
def product_image_remove(*, image: ProductImage) -> None:
    product = _lock_listing(image.product_id)
    if product.status == Product.Status.PUBLISHED and product.images.count() <= 1:
        raise ApplicationError(
            "A published listing needs an image. Add another before removing this one."
        )
    files = [getattr(image, name) for name in IMAGE_SIDES]
    image.delete()
    _reset_cover(product)
    for stored in files:
        if stored:
            transaction.on_commit(lambda f=stored: f.storage.delete(f.name))


@transaction.atomic
def product_image_make_cover(*, image: ProductImage) -> None:
    """Move `image` to the front of the gallery."""
    product = _lock_listing(image.product_id)
    for position, other in enumerate(product.images.exclude(pk=image.pk), start=1):
        ProductImage.objects.filter(pk=other.pk).update(position=position)
    ProductImage.objects.filter(pk=image.pk).update(position=0)
    Product.objects.filter(pk=product.pk).update(cover_image=image)


# ------------------------------------------------------------------------------
# Digital files
# ------------------------------------------------------------------------------
def _refresh_file_formats(product: Product) -> None:
    live = product.assets.filter(removed_at__isnull=True)
    kinds = sorted(set(live.values_list("kind", flat=True)))
    value = f",{','.join(kinds)}," if kinds else ""
    Product.objects.filter(pk=product.pk).update(file_formats=value)
    product.file_formats = value


def digital_asset_add(
    *, product: Product, upload: UploadedFile, is_previewable: bool = True
) -> DigitalAsset:
    """Accept a file for a FILE listing by its content (catalog.validation), store it
    in private storage with its size and sha256, and queue its 3D preview copy.

    The content check (which may read hundreds of MB) runs before the transaction
    opens; the rows are then written in one transaction.
    """
    if not product.is_file:
        raise ApplicationError("Only digital listings have downloadable files.")
    try:
        checked = validate_digital_file(upload)
    except ValidationError as exc:
        raise ApplicationError(" ".join(exc.messages)) from exc
    original_name = os.path.basename(upload.name or "file")[:255] or "file"
    with transaction.atomic():
        _lock_listing(product.pk)
        live = product.assets.filter(removed_at__isnull=True)
        if live.count() >= MAX_ASSETS_PER_PRODUCT:
            raise ApplicationError(f"A listing can have at most {MAX_ASSETS_PER_PRODUCT} files.")
        if live.filter(sha256=checked.sha256).exists():
            raise ApplicationError("This listing already has that exact file.")
        asset = DigitalAsset(
            product=product,
            original_name=original_name,
            kind=checked.kind,
            size_bytes=checked.size,
            sha256=checked.sha256,
            triangle_count=checked.triangle_count,
            is_previewable=bool(is_previewable and checked.previewable),
            position=(product.assets.aggregate(m=Max("position"))["m"] or 0) + 1,
        )
        upload.seek(0)
        asset.file.save(get_valid_filename(original_name) or "file", upload, save=False)
        try:
            asset.save()
        except Exception:
            asset.file.storage.delete(asset.file.name)  # no orphan file when the row fails
            raise
        _refresh_file_formats(product)
        if asset.is_previewable:
            from catalog.tasks import digital_asset_build_preview_task

            transaction.on_commit(lambda: digital_asset_build_preview_task.delay(asset.pk))
    return asset


def digital_asset_build_preview(*, asset_id: int) -> bool:
    """Write the public preview copy of a previewable asset. Idempotent: an asset that
    has a preview, or is not previewable, is left alone. Returns True if it wrote one."""
    from catalog.mesh_preview import mesh_preview_from_file

    asset = DigitalAsset.objects.filter(pk=asset_id).first()
    if asset is None or asset.preview or not (asset.is_previewable and asset.can_preview):
        return False
    with asset.file.open("rb") as fh:
        try:
            preview = mesh_preview_from_file(fh, kind=asset.kind)
        except ValueError:
            DigitalAsset.objects.filter(pk=asset.pk).update(is_previewable=False)
            return False
    with transaction.atomic():
        asset = DigitalAsset.objects.select_for_update().get(pk=asset_id)
        if asset.preview:
            return False
        asset.preview.save(f"preview-{asset.pk}.stl", ContentFile(preview), save=False)
        asset.save(update_fields=["preview"])
    return True


@transaction.atomic
def digital_asset_remove(*, asset: DigitalAsset) -> None:
    """Take a file off the listing. The row and the stored file stay (download history,
    buyers whose order included it); only the public preview copy is deleted."""
    product = _lock_listing(asset.product_id)
    live = DigitalAsset.objects.filter(product=product, removed_at__isnull=True)
    if product.status == Product.Status.PUBLISHED and live.count() <= 1:
        raise ApplicationError(
            "A published listing needs a file. Upload another before removing this one."
        )
    preview = asset.preview
    DigitalAsset.objects.filter(pk=asset.pk).update(
        removed_at=timezone.now(), preview="", is_previewable=False
    )
    _refresh_file_formats(product)
    if preview:
        transaction.on_commit(lambda: preview.storage.delete(preview.name))


__all__ = [
    "License",
    "PublishChecklist",
    "digital_asset_add",
    "digital_asset_build_preview",
    "digital_asset_remove",
    "product_archive",
    "product_create",
    "product_duplicate",
    "product_image_add",
    "product_image_make_cover",
    "product_image_remove",
    "product_publish",
    "product_publish_checklist",
    "product_take_down",
    "product_unpublish",
    "product_update",
    "publish_checklist",
]


# ------------------------------------------------------------------------------
# Shipping profiles
# ------------------------------------------------------------------------------
@dataclass(frozen=True)
class RateInput:
    country: str  # "" = everywhere else
    first_item_cents: int
    additional_item_cents: int


def _profile_apply(profile: ShippingProfile, *, rates: list[RateInput], values: dict) -> None:
    for name in (
        "name",
        "origin_country",
        "processing_min_days",
        "processing_max_days",
        "free_over_cents",
    ):
        if name in values:
            setattr(profile, name, values[name])
    profile.name = (profile.name or "").strip()
    if not rates:
        raise ApplicationError("Add at least one destination.")
    countries_seen = [r.country for r in rates]
    if len(set(countries_seen)) != len(countries_seen):
        raise ApplicationError("Each destination may appear only once.")
    if any(r.first_item_cents < 0 or r.additional_item_cents < 0 for r in rates):
        raise ApplicationError("Shipping rates cannot be negative.")
    if profile.processing_max_days < profile.processing_min_days:
        raise ApplicationError("The longest processing time is shorter than the shortest.")
    try:
        profile.full_clean(exclude=["seller"])
    except ValidationError as exc:
        raise ApplicationError(" ".join(exc.messages), extra=exc.message_dict) from exc
    profile.save()
    profile.rates.all().delete()
    for rate in rates:
        row = ShippingRate(
            profile=profile,
            country=rate.country,
            first_item_cents=rate.first_item_cents,
            additional_item_cents=rate.additional_item_cents,
        )
        try:
            row.full_clean(exclude=["profile"])
        except ValidationError as exc:
            raise ApplicationError(" ".join(exc.messages), extra=exc.message_dict) from exc
        row.save()


@transaction.atomic
def shipping_profile_create(*, seller: User, rates: list[RateInput], **values) -> ShippingProfile:
    """A seller's new shipping profile with its destinations (one transaction)."""
    profile = ShippingProfile(seller=seller, currency=settings.DEFAULT_CURRENCY)
    _profile_apply(profile, rates=rates, values=values)
    return profile


@transaction.atomic
def shipping_profile_update(
    *, profile: ShippingProfile, rates: list[RateInput], **values
) -> ShippingProfile:
    """Change a profile and replace its destinations. Past orders keep their snapshot;
    listings on this profile are priced by it from now on."""
    profile = ShippingProfile.objects.select_for_update().get(pk=profile.pk)
    _profile_apply(profile, rates=rates, values=values)
    return profile


@transaction.atomic
def shipping_profile_delete(*, profile: ShippingProfile) -> None:
    """Delete a profile no listing uses (a listing must always have one to be sold)."""
    profile = ShippingProfile.objects.select_for_update().get(pk=profile.pk)
    in_use = profile.products.count()
    if in_use:
        raise ApplicationError(
            f"{in_use} listing{'s use' if in_use != 1 else ' uses'} this profile; "
            "move them to another one first."
        )
    profile.delete()
