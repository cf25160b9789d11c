"""Reads of the catalog. Visibility and "can this be bought" are decided here, once."""

from dataclasses import dataclass

from django.db.models import Count, F, Prefetch, Q, QuerySet

from catalog import hooks
from catalog.models import (
    Category,
    DigitalAsset,
    Product,
    ProductImage,
    ProductSlugHistory,
    ShippingProfile,
)
from catalog.services import publish_checklist
from marketplace.models import User
from marketplace.selectors import seller_can_be_paid, seller_is_listed

# A suspended seller's listings vanish with the seller: `is_suspended` is moderation's one
# rule, kept on the user row so this stays a join, not a subquery.
PUBLIC = Q(
    status=Product.Status.PUBLISHED,
    is_taken_down=False,
    seller__is_active=True,
    seller__is_suspended=False,
)
# Whether the listing's seller can be paid: the flag payments keeps current on the user
# row (already joined for `PUBLIC` and the card's shop name), not a subquery per card.
SELLER_READY = F("seller__can_be_paid")


def product_queryset_public() -> QuerySet[Product]:
    """Listings anyone may see, with what a card shows, in a constant number of queries."""
    return (
        Product.objects.filter(PUBLIC)
        .select_related("seller__seller_profile", "cover_image", "category")
        # Cards never show the long text or the search documents; leaving them out keeps
        # sorted pages narrow.
        .defer("description", "description_html", "title_document", "search_document")
        .annotate(seller_ready=SELLER_READY)
    )


def _may_see_hidden(product: Product, user: User) -> bool:
    return user.is_authenticated and (user.is_staff or product.seller_id == user.pk)


@dataclass(frozen=True)
class ProductLookup:
    product: Product | None = None
    redirect_to: Product | None = None  # an old slug: answer with a permanent redirect


def product_media_visible(*, product_id: int, user) -> bool:
    """May `user` fetch the public media (images, 3D previews) of listing `product_id`?
    The listing page's rule: anyone while it is public (`PUBLIC`), its seller and staff
    always; nobody for a listing that does not exist. One query."""
    if user is not None and user.is_authenticated and user.is_staff:
        return Product.objects.filter(pk=product_id).exists()
    rule = PUBLIC
    if user is not None and user.is_authenticated:
        rule = rule | Q(seller_id=user.pk)
    return Product.objects.filter(rule, pk=product_id).exists()


def product_get_visible(*, slug: str, user: User) -> ProductLookup:
    """The listing at `slug` if `user` may see it: published and not taken down for
    everyone; also drafts, archived and taken-down ones for their seller and staff.
    Everyone else gets nothing (a 404 that does not say whether it exists)."""
    product = (
        Product.objects.select_related("seller__seller_profile", "category__parent", "cover_image")
        .annotate(seller_ready=SELLER_READY)
        .filter(slug=slug)
        .first()
    )
    if product is None:
        old = ProductSlugHistory.objects.select_related("product").filter(slug=slug).first()
        if old and (
            (old.product.is_public and seller_is_listed(old.product.seller))
            or _may_see_hidden(old.product, user)
        ):
            return ProductLookup(redirect_to=old.product)
        return ProductLookup()
    if (product.is_public and seller_is_listed(product.seller)) or _may_see_hidden(product, user):
        return ProductLookup(product=product)
    return ProductLookup()


def product_cannot_buy_reason(
    product: Product, *, user: User, seller_ready: bool | None = None
) -> str:
    """Why `user` cannot buy `product` right now, or "" if they can. The one rule that
    templates (via `p.can_buy`), add-to-cart and checkout all use. `seller_ready` comes
    from the `seller_ready` annotation on list pages; None (add-to-cart, checkout) reads
    the seller's "can be paid" flag afresh."""
    if seller_ready is None:
        seller_ready = seller_can_be_paid(seller_id=product.seller_id)
    if not product.is_public or not seller_is_listed(product.seller):
        return "This listing is not available."
    if user.is_authenticated and product.seller_id == user.pk:
        return "This is your own listing."
    if product.price_cents > 0 and not seller_ready:
        return "The seller is not set up to take payments yet."
    if product.kind == Product.Kind.PHYSICAL and product.stock_quantity < 1:
        return "Out of stock."
    return ""


def annotate_buyability(products, *, user: User) -> list[Product]:
    """Set `p.can_buy` and `p.cannot_buy_reason` on products that carry the
    `seller_ready` annotation (as every selector here provides)."""
    products = list(products)
    for product in products:
        reason = product_cannot_buy_reason(
            product, user=user, seller_ready=getattr(product, "seller_ready", False)
        )
        product.cannot_buy_reason = reason
        product.can_buy = not reason
    return products


def product_get_for_seller(*, seller: User, pk: int) -> Product | None:
    """One of `seller`'s own listings, or None: other people's listings do not exist here."""
    return (
        Product.objects.select_related("category", "cover_image")
        .annotate(seller_ready=SELLER_READY)
        .filter(seller=seller, pk=pk)
        .first()
    )


def product_list_for_seller(*, seller: User, status: str | None = None) -> list[Product]:
    """The seller's listings with `publish_ok`, `publish_missing` and the metric columns
    (`downloads_total`, `downloads_unique` for files; `units_sold_net` for printed items),
    in a constant number of queries whatever the number of listings."""
    products = (
        Product.objects.filter(seller=seller)
        .select_related("category", "cover_image")
        .annotate(
            seller_ready=SELLER_READY,
            image_count=Count("images", distinct=True),
            asset_count=Count("assets", filter=Q(assets__removed_at__isnull=True), distinct=True),
        )
        .order_by("-updated_at")
    )
    if status:
        products = products.filter(status=status)
    products = list(products)
    ids = [p.pk for p in products]
    metrics = hooks.listing_metrics(ids)  # units sold (orders), downloads (downloads)
    for product in products:
        checklist = publish_checklist(
            product,
            image_count=product.image_count,
            asset_count=product.asset_count,
            seller_ready=product.seller_ready,
        )
        product.publish_ok = checklist.ok
        product.publish_missing = checklist.missing
        product.publish_checklist = checklist
        values = metrics.get(product.pk, {})
        product.downloads_unique = values.get("downloads_unique", 0)
        product.downloads_total = product.download_count
        product.units_sold_net = values.get("units_sold_net", 0)
    return products


def product_gallery(product: Product) -> list[ProductImage]:
    return list(product.images.all())


def product_live_assets(product: Product) -> list[DigitalAsset]:
    return list(product.assets.filter(removed_at__isnull=True))


def product_list_for_shop(*, seller: User, user: User) -> list[Product]:
    return annotate_buyability(product_queryset_public().filter(seller=seller), user=user)


def category_tree() -> list[Category]:
    """Top-level categories with their children prefetched (two queries)."""
    return list(
        Category.objects.filter(parent__isnull=True)
        .order_by("position")
        .prefetch_related(Prefetch("children", queryset=Category.objects.order_by("position")))
    )


def shipping_profiles_for_seller(*, seller: User) -> list[ShippingProfile]:
    """The seller's profiles with their destinations and how many listings use each."""
    return list(
        ShippingProfile.objects.filter(seller=seller)
        .prefetch_related("rates")
        .annotate(listing_count=Count("products"))
    )


def shipping_profile_get_for_seller(*, seller: User, pk: int) -> ShippingProfile | None:
    return ShippingProfile.objects.prefetch_related("rates").filter(seller=seller, pk=pk).first()
