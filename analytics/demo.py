"""Demo engagement for `seed_demo`, so Trending has something to show on a fresh install."""

from analytics.models import ProductEngagementEvent
from analytics.trending import trending_recompute
from catalog.models import Product
from marketplace.models import User


def seed_engagement() -> int:
    """Some views and add-to-carts from the demo buyers, so Trending has something to show
    on a fresh install; then the trending recompute. Idempotent (skips if any exist)."""
    if ProductEngagementEvent.objects.exists():
        return 0
    buyers = list(
        User.objects.filter(
            email__in=[
                "buyer@demo.homecraft3d.test",
                "maker@demo.homecraft3d.test",
                "tinkerer@demo.homecraft3d.test",
            ]
        )
    )
    products = list(Product.objects.filter(status=Product.Status.PUBLISHED).order_by("pk"))
    events = []
    for index, product in enumerate(products[::3]):  # every third listing gets attention
        for n in range(1 + (index * 7) % 9):
            events.append(
                ProductEngagementEvent(
                    product=product,
                    kind=ProductEngagementEvent.Kind.VIEW,
                    user=buyers[n % len(buyers)] if buyers else None,
                    session_key="",
                )
            )
        if index % 2 == 0:
            events.append(
                ProductEngagementEvent(
                    product=product,
                    kind=ProductEngagementEvent.Kind.ADD_TO_CART,
                    user=buyers[0] if buyers else None,
                )
            )
    ProductEngagementEvent.objects.bulk_create(events)
    trending_recompute()
    return len(events)
