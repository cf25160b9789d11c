import factory
from django.core.files.base import ContentFile

from catalog.category_tree import ensure_category_tree
from catalog.demo import SHAPES, binary_stl
from catalog.models import (
    Category,
    DigitalAsset,
    License,
    Product,
    ProductImage,
    ShippingProfile,
    ShippingRate,
)
from payments.models import SellerStripeAccount
from payments.readiness import seller_payment_ready_refresh
from tests.factories import UserFactory
from tests.images import image_bytes


def category(slug: str = "home-garden-planters") -> Category:
    """A category from the seeded tree. The data migration made them, but a browser
    (transactional) test flushes the tables when it ends, so re-seed when missing."""
    found = Category.objects.filter(slug=slug).first()
    if found is None:
        ensure_category_tree(Category)
        found = Category.objects.get(slug=slug)
    return found


def make_ready(user) -> SellerStripeAccount:
    """A seller Stripe-ready on both sides: our mirror and the simulator's "Stripe", and
    the "can be paid" flag payments keeps from it (set through its service, and on this
    instance too)."""
    from payments.simulator import SimulatedAccount

    SimulatedAccount.objects.update_or_create(
        id=f"acct_test_{user.pk}",
        defaults={
            "idempotency_key": f"test-account-{user.pk}",
            "seller_id": user.pk,
            "email": user.email,
            "charges_enabled": True,
            "payouts_enabled": True,
            "details_submitted": True,
        },
    )
    account = SellerStripeAccount.objects.update_or_create(
        seller=user,
        defaults={
            "stripe_account_id": f"acct_test_{user.pk}",
            "charges_enabled": True,
            "payouts_enabled": True,
            "details_submitted": True,
        },
    )[0]
    user.can_be_paid = seller_payment_ready_refresh(seller_id=user.pk)
    return account


def shipping_profile(
    seller,
    *,
    first_item_cents: int = 495,
    additional_item_cents: int = 0,
    country: str = "",
    origin: str = "US",
    processing: tuple[int, int] = (1, 3),
    free_over_cents: int | None = None,
    extra_rates: list[tuple[str, int, int]] = (),
) -> ShippingProfile:
    """A shipping profile with one rate (`country`, "" = everywhere else) and any
    `extra_rates` [(country, first, additional)]."""
    profile = ShippingProfile.objects.create(
        seller=seller,
        name="Standard",
        origin_country=origin,
        processing_min_days=processing[0],
        processing_max_days=processing[1],
        free_over_cents=free_over_cents,
    )
    for code, first, extra in [(country, first_item_cents, additional_item_cents), *extra_rates]:
        ShippingRate.objects.create(
            profile=profile, country=code, first_item_cents=first, additional_item_cents=extra
        )
    return profile


class ProductFactory(factory.django.DjangoModelFactory):
    """A complete FILE draft by default: passes the checklist once it has an image and a
    file (`complete=True` adds both) and its seller is ready (`seller_ready=True`)."""

    class Meta:
        model = Product
        skip_postgeneration_save = True

    seller = factory.SubFactory(UserFactory)
    kind = Product.Kind.FILE
    title = factory.Sequence(lambda n: f"Planter {n}")
    slug = factory.Sequence(lambda n: f"planter-{n}")
    description = "A planter that waters itself, printed without supports."
    price_cents = 500
    category = factory.LazyFunction(category)
    license = License.PERSONAL

    class Params:
        # A printed item ships everywhere at `shipping_cents` for the first item and
        # nothing for each additional one (the old flat rule, as a profile).
        shipping_cents = 495
        physical = factory.Trait(
            kind=Product.Kind.PHYSICAL,
            license="",
            price_cents=2500,
            stock_quantity=5,
            shipping_profile=factory.LazyAttribute(
                lambda o: shipping_profile(o.seller, first_item_cents=o.shipping_cents)
            ),
        )

    @factory.post_generation
    def seller_ready(obj, create, extracted, **kwargs):
        if create and extracted:
            make_ready(obj.seller)

    @factory.post_generation
    def complete(obj, create, extracted, **kwargs):
        if create and extracted:
            image = ProductImageFactory(product=obj)
            obj.cover_image = image
            obj.save(update_fields=["cover_image"])
            if obj.kind == Product.Kind.FILE:
                DigitalAssetFactory(product=obj)


class ProductImageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductImage

    product = factory.SubFactory(ProductFactory)
    image = factory.LazyFunction(lambda: ContentFile(image_bytes("WEBP", (400, 300)), "i.webp"))
    card = factory.LazyFunction(lambda: ContentFile(image_bytes("WEBP", (400, 300)), "c.webp"))
    detail = factory.LazyFunction(lambda: ContentFile(image_bytes("WEBP", (400, 300)), "d.webp"))
    alt_text = "A planter"


STL_BYTES = binary_stl(SHAPES["box"](), "test box")


class DigitalAssetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DigitalAsset

    product = factory.SubFactory(ProductFactory)
    file = factory.LazyFunction(lambda: ContentFile(STL_BYTES, "box.stl"))
    original_name = "box.stl"
    kind = DigitalAsset.Kind.STL
    size_bytes = len(STL_BYTES)
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    triangle_count = 16
